"""The landing sensor's cursor logic: new objects only, grouped by day, ties at the watermark kept."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from cityplatform.objectstore import ObjectInfo
from orchestration.defs.iot.sensors import new_landing_objects

SEOUL = ZoneInfo("Asia/Seoul")
T0 = datetime(2026, 11, 24, 1, 0, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 24, 1, 0, 5, tzinfo=UTC)


def obj(key: str, at: datetime, etag: str = "e1") -> ObjectInfo:
    return ObjectInfo("landing", key, etag, 10, at)


A = obj("iot/noise/date=2026-11-24/noise_20261124T0800.jsonl", T0)
B = obj("iot/rain/date=2026-11-24/rain_20261124T0800.jsonl", T0)
C = obj("iot/rain/date=2026-11-23/rain_20261123T2355.jsonl", T1)


def test_first_tick_sees_everything_grouped_by_day() -> None:
    by_day, cursor = new_landing_objects([A, B, C], None, SEOUL)
    assert {d: len(objs) for d, objs in by_day.items()} == {date(2026, 11, 24): 2, date(2026, 11, 23): 1}
    assert cursor is not None


def test_second_tick_with_nothing_new_sees_nothing() -> None:
    _, cursor = new_landing_objects([A, B, C], None, SEOUL)
    by_day, same = new_landing_objects([A, B, C], cursor, SEOUL)
    assert by_day == {} and same == cursor


def test_object_arriving_in_the_same_second_as_the_watermark_is_not_missed() -> None:
    _, cursor = new_landing_objects([A], None, SEOUL)
    by_day, _ = new_landing_objects([A, B], cursor, SEOUL)
    assert by_day == {date(2026, 11, 24): [B]}


def test_redelivery_with_a_newer_timestamp_is_seen_again() -> None:
    _, cursor = new_landing_objects([A], None, SEOUL)
    redelivered = obj(A.key, T1)
    by_day, _ = new_landing_objects([redelivered], cursor, SEOUL)
    assert by_day == {date(2026, 11, 24): [redelivered]}


def test_object_changed_in_the_same_second_as_the_watermark_is_seen() -> None:
    _, cursor = new_landing_objects([A], None, SEOUL)
    changed = obj(A.key, T0, etag="e2")
    by_day, _ = new_landing_objects([changed], cursor, SEOUL)
    assert by_day == {date(2026, 11, 24): [changed]}


def test_a_cursor_from_before_etags_were_kept_still_reads() -> None:
    old = json.dumps({"watermark": T0.isoformat(), "at_watermark": [A.key]})
    by_day, cursor = new_landing_objects([A, C], old, SEOUL)
    assert by_day == {date(2026, 11, 24): [A], date(2026, 11, 23): [C]}
    assert new_landing_objects([A, C], cursor, SEOUL)[0] == {}


def test_an_object_of_the_first_hour_also_requests_the_day_before() -> None:
    """Within the lateness limit after midnight an object may carry the day before's late readings."""
    early = obj("iot/rain/date=2026-11-24/rain_20261124T0055.jsonl", T0)
    on_time = obj("iot/rain/date=2026-11-24/rain_20261124T0100.jsonl", T0)
    by_day, _ = new_landing_objects([early, on_time], None, SEOUL)
    assert by_day == {date(2026, 11, 23): [early], date(2026, 11, 24): [early, on_time]}

"""Which objects are past retention, from synthetic listings: no server needed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cityplatform.objectstore import ObjectInfo
from governance.retention import Location, WarehouseTable, check_disjoint, oldest_kept, past_retention

SEOUL = ZoneInfo("Asia/Seoul")
TODAY = date(2026, 11, 25)
CLIPS = Location("cctv/raw/clips", "s3://landing/cctv/", 30)
READINGS = Location("iot/bronze/readings", "s3://bronze/iot/readings/", 400)
EVIDENCE = Location("cctv/raw/clips", "s3://bronze/cctv/evidence/", 30)


def obj(uri: str, modified: datetime | None = datetime(2026, 11, 24, tzinfo=UTC)) -> ObjectInfo:
    bucket, key = uri[5:].split("/", 1)
    return ObjectInfo(bucket, key, "etag", 10, modified)


def expired_uris(locations: list[Location], objects: list[ObjectInfo]) -> list[str]:
    return [e.object.uri for e in past_retention(locations, objects, TODAY, SEOUL)]


def test_a_partition_is_kept_for_exactly_its_period_then_expires() -> None:
    kept = obj("s3://landing/cctv/cam-01/date=2026-10-26/cam-01_20261026T080000.mp4")  # 30 days old
    gone = obj("s3://landing/cctv/cam-01/date=2026-10-25/cam-01_20261025T235959.mp4")  # 31 days old
    (expired,) = past_retention([CLIPS], [kept, gone], TODAY, SEOUL)
    assert expired.object == gone
    assert (expired.day, expired.partitioned, expired.location) == (date(2026, 10, 25), True, CLIPS)


def test_a_warehouse_day_is_kept_as_long_as_an_object_of_that_day() -> None:
    """One rule for both: the oldest day kept is the period before today; the day before it goes."""
    assert oldest_kept(TODAY, 30) == date(2026, 10, 26)
    (expired,) = past_retention(
        [CLIPS],
        [obj(f"s3://landing/cctv/cam-01/date={day}/cam-01_x.mp4") for day in ("2026-10-26", "2026-10-25")],
        TODAY,
        SEOUL,
    )
    assert expired.day == oldest_kept(TODAY, 30) - timedelta(days=1)
    table = WarehouseTable("marts/traffic/fct_x", "warehouse.traffic.fct_x", "local_date", 1825)
    assert (table.schema, table.name) == ("traffic", "fct_x")


def test_the_partition_in_the_key_wins_over_a_recent_last_modified() -> None:
    old = obj("s3://bronze/iot/readings/kind=noise/date=2025-10-01/readings.parquet")  # rewritten yesterday
    recent = obj("s3://bronze/iot/readings/kind=noise/date=2026-01-01/readings.parquet")
    assert expired_uris([READINGS], [old, recent]) == [old.uri]


def test_a_key_without_partition_is_aged_by_last_modified_in_city_time() -> None:
    # 2026-10-25T15:30Z is 00:30 on 2026-10-26 in Seoul: 30 days old there, so kept; 31 in UTC.
    kept = obj("s3://bronze/cctv/evidence/unplaced/a.jpg", datetime(2026, 10, 25, 15, 30, tzinfo=UTC))
    gone = obj("s3://bronze/cctv/evidence/unplaced/b.jpg", datetime(2026, 10, 25, 14, 30, tzinfo=UTC))
    (expired,) = past_retention([EVIDENCE], [kept, gone], TODAY, SEOUL)
    assert expired.object == gone
    assert (expired.day, expired.partitioned) == (date(2026, 10, 25), False)


def test_an_object_with_no_date_at_all_is_kept() -> None:
    assert expired_uris([EVIDENCE], [obj("s3://bronze/cctv/evidence/x.jpg", modified=None)]) == []


def test_each_location_uses_its_own_period_and_objects_elsewhere_are_ignored() -> None:
    day = "date=2026-06-01"  # 177 days old: past 30, within 400
    clip = obj(f"s3://landing/cctv/cam-02/{day}/cam-02_20260601T080000.mp4")
    reading = obj(f"s3://bronze/iot/readings/kind=rain/{day}/readings.parquet")
    registry = obj("s3://landing/registry/sensors.csv", datetime(2020, 1, 1, tzinfo=UTC))
    manifest = obj(f"s3://bronze/iot/landing_manifests/{day}/manifest.json")
    same_key_other_bucket = obj(f"s3://quarantine/cctv/cam-02/{day}/cam-02_20260601T080000.mp4")
    listing = [clip, reading, registry, manifest, same_key_other_bucket]
    assert expired_uris([CLIPS, READINGS], listing) == [clip.uri]


def test_results_come_oldest_first() -> None:
    newer = obj("s3://landing/cctv/cam-01/date=2026-09-01/cam-01_20260901T080000.mp4")
    older = obj("s3://bronze/cctv/evidence/date=2026-08-01/camera=cam-01/hour=08/c/frame-000001.jpg")
    assert expired_uris([CLIPS, EVIDENCE], [newer, older]) == [older.uri, newer.uri]


def test_overlapping_locations_are_refused() -> None:
    nested = Location("iot/raw/readings", "s3://landing/cctv/cam-01/", 400)
    with pytest.raises(ValueError, match="overlap"):
        check_disjoint([CLIPS, nested])
    with pytest.raises(ValueError, match="overlap"):
        past_retention([nested, CLIPS], [], TODAY, SEOUL)
    check_disjoint([CLIPS, READINGS, EVIDENCE, Location("x", "s3://quarantine/cctv/", 30)])

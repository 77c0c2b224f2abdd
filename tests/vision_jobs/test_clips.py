"""Landing keys in, partitioned output keys out, in the city's zone whatever it is."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from cityplatform.layout import ClipName, landing_clip_key
from vision_jobs.clips import BadClipKey, parse_clip_uri

SEOUL, BERLIN = ZoneInfo("Asia/Seoul"), ZoneInfo("Europe/Berlin")
URI = "s3://landing/cctv/cam-03/date=2025-05-12/cam-03_20250512T083000.mp4"


@pytest.mark.parametrize(
    ("tz", "start_utc"), [(SEOUL, "2025-05-11T23:30:00+00:00"), (BERLIN, "2025-05-12T06:30:00+00:00")]
)
def test_clip_start_is_local_time_and_outputs_partition_by_local_date_and_hour(
    tz: ZoneInfo, start_utc: str
) -> None:
    ref = parse_clip_uri(URI, tz)
    assert (ref.camera_id, ref.clip, ref.suffix) == ("cam-03", "cam-03_20250512T083000", ".mp4")
    assert ref.start_utc.isoformat() == start_utc
    assert (
        ref.output_key("counts")
        == "cctv/counts/date=2025-05-12/camera=cam-03/hour=08/cam-03_20250512T083000.parquet"
    )
    assert ref.quarantine_key() == ref.key == landing_clip_key(ref.name, ".mp4")


@pytest.mark.parametrize("tz", [SEOUL, BERLIN])
def test_a_clip_landed_in_the_city_zone_is_read_back_at_the_same_instant(tz: ZoneInfo) -> None:
    instant = datetime(2026, 3, 16, 1, 15, tzinfo=UTC)
    name = ClipName("cam-01", instant.astimezone(tz))
    ref = parse_clip_uri(f"s3://landing/{landing_clip_key(name, '.mp4')}", tz)
    assert (ref.camera_id, ref.start_utc) == ("cam-01", instant)


def test_an_explicit_camera_moves_the_outputs_but_not_the_clip_name() -> None:
    ref = parse_clip_uri(URI, SEOUL)
    moved = type(ref)(ref.bucket, ref.key, ref.name, ref.suffix, "cam-09")
    assert moved.output_key("detections").endswith("/camera=cam-09/hour=08/cam-03_20250512T083000.parquet")


@pytest.mark.parametrize(
    "uri",
    [
        "landing/cctv/cam-03/cam-03_20250512T083000.mp4",
        "s3://landing/cctv/cam-03/date=2025-05-12/clip.mp4",
        "s3://landing/cctv/cam-03/date=2025-05-12/cam-03_20251312T083000.mp4",
    ],
)
def test_keys_that_do_not_say_camera_and_start_are_refused(uri: str) -> None:
    with pytest.raises(BadClipKey):
        parse_clip_uri(uri, SEOUL)

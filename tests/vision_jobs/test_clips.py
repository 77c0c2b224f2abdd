"""Landing keys in, partitioned output keys out, in the city's zone whatever it is."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cityplatform.layout import ClipName, bronze_clip_folder, landing_clip_key
from vision_jobs.clips import BadClipKey, clip_name_of, parse_clip_uri
from vision_jobs.registry import CameraRegistry, ClipNamePattern, RegistryError, load_registry

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
        bronze_clip_folder("counts", ref.name, ref.camera_id)
        == "cctv/counts/date=2025-05-12/camera=cam-03/hour=08/cam-03_20250512T083000/"
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
    assert bronze_clip_folder("detections", moved.name, moved.camera_id).endswith(
        "/camera=cam-09/hour=08/cam-03_20250512T083000/"
    )


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


BERLIN_WINTER = datetime(2026, 12, 5, 16, 0, tzinfo=BERLIN)  # 15:00 UTC


@pytest.mark.parametrize(
    ("key", "camera", "start"),
    [
        ("cctv/cam-02/CH02_20261205_150000.mp4", "cam-02", BERLIN_WINTER),  # the NVR's clock is on UTC
        ("cctv/cam-02/CH02_20261205_150000.AVI", "cam-02", BERLIN_WINTER),
        ("cctv/cam-02/date=2026-12-05/cam-02_20261205T160000.mp4", "cam-02", BERLIN_WINTER),
    ],
)
def test_a_vendor_name_in_the_registry_reads_as_the_platform_s_clip_name(
    registry: CameraRegistry, key: str, camera: str, start: datetime
) -> None:
    ref = parse_clip_uri(f"s3://landing/{key}", BERLIN, registry)
    assert (ref.camera_id, ref.start_local, ref.clip) == (camera, start, "cam-02_20261205T160000")
    assert ref.key == key  # read where it landed, analysed and partitioned under the platform's name


@pytest.mark.parametrize(
    "key",
    [
        "cctv/cam-01/CH02_20261205_150000.mp4",  # cam-01's recorder has no such pattern
        "cctv/cam-02/CH03_20261205_150000.mp4",  # another channel
        "cctv/cam-02/CH02_20261305_150000.mp4",  # no 13th month
        "cctv/cam-02/sub/CH02_20261205_150000.mp4",  # not where the pattern says
        "cctv/cam-09/CH02_20261205_150000.mp4",  # no such camera
    ],
)
def test_a_name_no_pattern_accepts_is_refused_with_what_was_expected(
    registry: CameraRegistry, key: str
) -> None:
    with pytest.raises(BadClipKey) as error:
        clip_name_of(key, BERLIN, registry)
    assert error.value.reason == "unknown-name"
    assert "<camera>_YYYYMMDDTHHMMSS" in str(error.value)
    if key.startswith("cctv/cam-02/"):
        assert "CH02_{start:%Y%m%d_%H%M%S}" in str(error.value)


def test_a_pattern_with_a_date_folder_needs_folder_and_name_to_agree() -> None:
    pattern = ClipNamePattern(pattern="{start:%Y-%m-%d}/ch2-{start:%H%M}")
    assert pattern.parse("2026-12-05/ch2-1500", BERLIN) == datetime(2026, 12, 5, 15, tzinfo=BERLIN)
    assert pattern.format(datetime(2026, 12, 5, 15, tzinfo=BERLIN)) == "2026-12-05/ch2-1500"
    assert pattern.parse("2026-12-06/ch2-1500", BERLIN) is not None  # the folder gives the date
    both = ClipNamePattern(pattern="{start:%Y-%m-%d}/ch2-{start:%Y%m%d%H%M}")
    assert both.parse("2026-12-06/ch2-202612051500", BERLIN) is None  # folder and stamp disagree


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{pattern: 'CH02_{start:%H%M%S}'}", "the start must give year, month, day, hour and minute"),
        ("{pattern: 'CH02_{start:%Y%m%d%H%M%Z}'}", "unsupported directives ['%Z']"),
        ("{pattern: 'CH{channel}_{start:%Y%m%d%H%M}'}", "the only field is {start:<strftime format>}"),
        ("{pattern: 'a{start:%Y%m%d}b{start:%d%H%M}'}", "cannot be read back"),
        ("{pattern: 'CH02_{start:%Y%m%d%H%M}', timezone: Mars/Olympus}", "unknown time zone"),
    ],
)
def test_a_bad_clip_name_pattern_is_one_line_naming_the_camera(
    tmp_path: Path, entry: str, message: str
) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_text(
        "cameras:\n  - camera_id: cam-07\n    segment_id: RS001\n    district_id: D01\n"
        f"    clip_names: [{entry}]\n"
    )
    with pytest.raises(RegistryError) as error:
        load_registry(path)
    assert "cam-07" in str(error.value) and message in str(error.value)

"""Landing keys in, partitioned output keys out."""

from __future__ import annotations

import pytest

from vision_jobs.clips import BadClipKey, landing_key, parse_clip_uri


def test_clip_start_is_local_time_and_outputs_partition_by_local_date_and_hour() -> None:
    ref = parse_clip_uri("s3://landing/cctv/cam-03/date=2025-05-12/cam-03_20250512T083000.mp4")
    assert (ref.camera_id, ref.clip, ref.suffix) == ("cam-03", "cam-03_20250512T083000", ".mp4")
    assert ref.start_utc.isoformat() == "2025-05-11T23:30:00+00:00"  # Seoul is UTC+9
    assert (
        ref.output_key("counts")
        == "cctv/counts/date=2025-05-12/camera=cam-03/hour=08/cam-03_20250512T083000.parquet"
    )
    assert landing_key("cam-03", ref.start_local) == ref.key


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
        parse_clip_uri(uri)

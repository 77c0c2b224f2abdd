"""Drop rendered clips into the landing bucket the way cameras would, truth kept beside them.

Clips go to ``landing/cctv/<camera>/date=YYYY-MM-DD/<camera>_YYYYMMDDTHHMMSS.<ext>``; the simulator's
ground truth goes to ``landing/cctv-truth/...`` with the same name, outside the prefix the job reads.
"""

from __future__ import annotations

from pathlib import Path

from cityplatform.objectstore import LANDING, ObjectInfo, ObjectStore
from citysim.cctv.clip import SEOUL, ClipTruth

CONTENT_TYPES = {".mp4": "video/mp4", ".avi": "video/x-msvideo"}


def clip_key(truth: ClipTruth, suffix: str) -> str:
    spec = truth.spec
    return f"cctv/{spec.camera_id}/date={spec.start.astimezone(SEOUL):%Y-%m-%d}/{spec.clip_name}{suffix}"


def upload_clip(store: ObjectStore, video_path: Path, truth: ClipTruth) -> ObjectInfo:
    """Put the video and its truth (JSON counts and crossings, parquet boxes); return the video's object."""
    json_path, boxes_path = truth.save(video_path)
    suffix = video_path.suffix.lower()
    info = store.put_bytes(
        LANDING,
        clip_key(truth, suffix),
        video_path.read_bytes(),
        content_type=CONTENT_TYPES.get(suffix, "application/octet-stream"),
    )
    truth_key = "cctv-truth/" + clip_key(truth, "").removeprefix("cctv/")
    store.put_bytes(
        LANDING, f"{truth_key}.truth.json", json_path.read_bytes(), content_type="application/json"
    )
    store.put_bytes(LANDING, f"{truth_key}.boxes.parquet", boxes_path.read_bytes())
    return info

"""Drop rendered clips into the landing bucket the way cameras would, truth kept beside them.

Clips go to :func:`~cityplatform.layout.landing_clip_key`, named in the local time of the spec's
start; the simulator's ground truth goes to :func:`~cityplatform.layout.landing_clip_truth_key`, with
the same name, outside the prefix the job reads.
"""

from __future__ import annotations

from pathlib import Path

from cityplatform.layout import landing_clip_key, landing_clip_truth_key
from cityplatform.objectstore import LANDING, ObjectInfo, ObjectStore
from citysim.cctv.clip import ClipTruth

CONTENT_TYPES = {".mp4": "video/mp4", ".avi": "video/x-msvideo"}


def upload_clip(store: ObjectStore, video_path: Path, truth: ClipTruth) -> ObjectInfo:
    """Put the video and its truth (JSON counts and crossings, parquet boxes); return the video's object."""
    json_path, boxes_path = truth.save(video_path)
    suffix, name = video_path.suffix.lower(), truth.spec.name
    info = store.put_bytes(
        LANDING,
        landing_clip_key(name, suffix),
        video_path.read_bytes(),
        content_type=CONTENT_TYPES.get(suffix, "application/octet-stream"),
    )
    store.put_bytes(
        LANDING,
        landing_clip_truth_key(name, ".truth.json"),
        json_path.read_bytes(),
        content_type="application/json",
    )
    store.put_bytes(LANDING, landing_clip_truth_key(name, ".boxes.parquet"), boxes_path.read_bytes())
    return info

"""From a clip partition key to its landing object, and back: ``<camera>_<YYYYMMDDTHHMMSS>``."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo

from cityplatform.objectstore import LANDING, ObjectInfo, ObjectStore
from vision_jobs.clips import CLIP_NAME
from vision_jobs.decode import SUPPORTED_SUFFIXES

LANDING_CCTV_PREFIX = "cctv/"
DAYLIGHT_HOURS = range(7, 19)  # local time; a blind camera shows no traffic in these hours


def clip_partition_key(key: str) -> str | None:
    """The partition of a landing key, or None for anything that is not a clip."""
    path = PurePosixPath(key)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES or CLIP_NAME.match(path.stem) is None:
        return None
    return path.stem


def clip_start(partition_key: str, timezone: str) -> datetime:
    match = CLIP_NAME.match(partition_key)
    if match is None:
        raise ValueError(f"not a clip partition key: {partition_key!r}")
    return datetime.strptime(match["start"], "%Y%m%dT%H%M%S").replace(tzinfo=ZoneInfo(timezone))


def find_clip(store: ObjectStore, partition_key: str, timezone: str) -> ObjectInfo | None:
    """The landing object of a clip partition (any supported container)."""
    camera = partition_key.split("_", 1)[0]
    start = clip_start(partition_key, timezone)
    prefix = f"{LANDING_CCTV_PREFIX}{camera}/date={start:%Y-%m-%d}/{partition_key}."
    return next(iter(store.list_objects(LANDING, prefix)), None)

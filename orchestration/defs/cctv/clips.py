"""From a landing key to its clip partition, and from a partition (a clip's name) to its landing object.

The partition key is the clip's :class:`~cityplatform.layout.ClipName`, ``<camera>_<YYYYMMDDTHHMMSS>``.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from cityplatform.layout import ClipName, is_clip_name, landing_clip_key
from cityplatform.objectstore import LANDING, ObjectInfo, ObjectStore
from vision_jobs.decode import SUPPORTED_SUFFIXES

DAYLIGHT_HOURS = range(7, 19)  # local time; a blind camera shows no traffic in these hours


def clip_partition_key(key: str) -> str | None:
    """The partition of a landing key, or None for anything that is not a clip."""
    path = PurePosixPath(key)
    if path.suffix.lower() not in SUPPORTED_SUFFIXES or not is_clip_name(path.stem):
        return None
    return path.stem


def find_clip(store: ObjectStore, name: ClipName) -> ObjectInfo | None:
    """The landing object of a clip (any supported container)."""
    return next(iter(store.list_objects(LANDING, landing_clip_key(name, "."))), None)

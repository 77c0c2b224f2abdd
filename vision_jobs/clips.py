"""Where clips come from and where their results go: landing keys in, partitioned bronze keys out.

The keys and the clip's file name are :mod:`cityplatform.layout`'s (``landing_clip_key``,
``bronze_clip_folder``, ``ClipName``); this module reads a clip's URI into them, its start in the
city's local time. A camera whose recorder names clips its own way (``CH02_20261205_150000.mp4``)
declares that in the camera registry (:class:`~vision_jobs.registry.ClipNamePattern`); its clips get
the platform's name all the same, so partitions and outputs do not depend on the vendor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import PurePosixPath

from cityplatform.layout import CCTV_PREFIX, BadClipName, ClipName, landing_clip_key
from cityplatform.objectstore import parse_s3_uri
from vision_jobs.registry import CameraRegistry


class BadClipKey(ValueError):
    """A landing key the job cannot place in time or camera; ``reason`` is the quarantine's tag."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class ClipRef:
    bucket: str
    key: str
    name: ClipName
    suffix: str
    camera_id: str  # the camera it is analysed as: its name's, unless the caller names another

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def clip(self) -> str:
        """The file name without suffix, e.g. ``cam-03_20250512T080000``."""
        return self.name.format()

    @property
    def start_local(self) -> datetime:
        return self.name.start

    @property
    def start_utc(self) -> datetime:
        return self.name.start.astimezone(UTC)

    def quarantine_key(self) -> str:
        """A rejected clip keeps its landing layout in the quarantine bucket."""
        return landing_clip_key(self.name, self.suffix)


def clip_name_of(key: str, tz: tzinfo, registry: CameraRegistry | None = None) -> ClipName:
    """The clip a landing key holds: the platform's own name ``<camera>_YYYYMMDDTHHMMSS``, or a name
    one of the ``clip_names`` patterns of the camera whose folder (``cctv/<camera>/``) holds it
    accepts; start in the city's zone ``tz``. :class:`BadClipKey` says which names were expected."""
    path = PurePosixPath(key)
    try:
        return ClipName.parse(path.stem, tz)
    except BadClipName as exc:
        expected = str(exc)
    folder, _, below = key.removeprefix(CCTV_PREFIX).partition("/")
    camera = registry.cameras.get(folder) if registry and key.startswith(CCTV_PREFIX) else None
    if camera is not None and camera.clip_names:
        name = str(PurePosixPath(below).with_suffix("")) if PurePosixPath(below).suffix else below
        for pattern in camera.clip_names:
            if (start := pattern.parse(name, tz)) is not None:
                return ClipName(camera.camera_id, start)
        patterns = ", ".join(repr(p.pattern) for p in camera.clip_names)
        expected += f", or below {CCTV_PREFIX}{folder}/ one of camera {folder}'s patterns {patterns}"
    raise BadClipKey("unknown-name", f"{key}: {expected}")


def parse_clip_uri(uri: str, tz: tzinfo, registry: CameraRegistry | None = None) -> ClipRef:
    """Read camera and start time (local, in the city's zone ``tz``) from the clip's key
    (:func:`clip_name_of`); raise :class:`BadClipKey` when it says neither."""
    try:
        bucket, key = parse_s3_uri(uri)
    except ValueError as exc:
        raise BadClipKey("bad-key", str(exc)) from exc
    name = clip_name_of(key, tz, registry)
    return ClipRef(bucket, key, name, PurePosixPath(key).suffix.lower(), name.camera_id)

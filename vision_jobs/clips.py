"""Where clips come from and where their results go: landing keys in, partitioned bronze keys out.

The keys and the clip's file name are :mod:`cityplatform.layout`'s (``landing_clip_key``,
``bronze_clip_key``, ``ClipName``); this module reads a clip's URI into them, its start in the
city's local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import PurePosixPath

from cityplatform.layout import BadClipName, ClipName, bronze_clip_key, landing_clip_key
from cityplatform.objectstore import parse_s3_uri


class BadClipKey(ValueError):
    """A landing key the job cannot place in time or camera."""


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

    def output_key(self, table: str, suffix: str = ".parquet") -> str:
        return bronze_clip_key(table, self.name, suffix, camera_id=self.camera_id)

    def quarantine_key(self) -> str:
        """A rejected clip keeps its landing layout in the quarantine bucket."""
        return landing_clip_key(self.name, self.suffix)


def parse_clip_uri(uri: str, tz: tzinfo) -> ClipRef:
    """Read camera and start time (local, in the city's zone ``tz``) from the clip's file name;
    raise :class:`BadClipKey` when absent."""
    try:
        bucket, key = parse_s3_uri(uri)
    except ValueError as exc:
        raise BadClipKey(str(exc)) from exc
    path = PurePosixPath(key)
    try:
        name = ClipName.parse(path.stem, tz)
    except BadClipName as exc:
        raise BadClipKey(f"{uri}: {exc}") from exc
    return ClipRef(bucket, key, name, path.suffix.lower(), name.camera_id)

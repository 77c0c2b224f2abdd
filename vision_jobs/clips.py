"""Where clips come from and where their results go: landing keys in, partitioned bronze keys out.

Landing: ``s3://landing/cctv/<camera>/date=YYYY-MM-DD/<camera>_YYYYMMDDTHHMMSS.<ext>`` with the clip's
start in local time. Outputs are partitioned by the local date of the clip's start, its camera and
local hour, one file per clip: ``cctv/<table>/date=YYYY-MM-DD/camera=<id>/hour=HH/<clip>.parquet``.
The date comes first so that a build of some days lists only their objects, however many cameras
and however much history there is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo

from cityplatform.objectstore import parse_s3_uri

CLIP_NAME = re.compile(r"^(?P<camera>[a-z0-9][a-z0-9-]*)_(?P<start>\d{8}T\d{6})$")


class BadClipKey(ValueError):
    """A landing key the job cannot place in time or camera."""


@dataclass(frozen=True)
class ClipRef:
    bucket: str
    key: str
    camera_id: str
    clip: str  # file name without suffix, e.g. cam-03_20250512T080000
    suffix: str
    start_local: datetime

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def start_utc(self) -> datetime:
        return self.start_local.astimezone(ZoneInfo("UTC"))

    def output_key(self, table: str, suffix: str = ".parquet") -> str:
        """``cctv/<table>/date=<local date>/camera=<id>/hour=<local hour>/<clip><suffix>``."""
        return (
            f"cctv/{table}/date={self.start_local:%Y-%m-%d}/camera={self.camera_id}/"
            f"hour={self.start_local:%H}/{self.clip}{suffix}"
        )

    def quarantine_key(self) -> str:
        """A rejected clip keeps its landing layout in the quarantine bucket."""
        return landing_key(self.camera_id, self.start_local, self.suffix)


def parse_clip_uri(uri: str, timezone: str = "Asia/Seoul") -> ClipRef:
    """Read camera and start time from the clip's file name; raise :class:`BadClipKey` when absent."""
    try:
        bucket, key = parse_s3_uri(uri)
    except ValueError as exc:
        raise BadClipKey(str(exc)) from exc
    path = PurePosixPath(key)
    match = CLIP_NAME.match(path.stem)
    if match is None:
        raise BadClipKey(f"{uri}: file name must be <camera>_YYYYMMDDTHHMMSS.<ext>, got {path.name!r}")
    try:
        start = datetime.strptime(match["start"], "%Y%m%dT%H%M%S").replace(tzinfo=ZoneInfo(timezone))
    except ValueError as exc:
        raise BadClipKey(f"{uri}: {match['start']!r} is not a valid clip start time") from exc
    return ClipRef(bucket, key, match["camera"], path.stem, path.suffix.lower(), start)


def landing_key(camera_id: str, start_local: datetime, suffix: str = ".mp4") -> str:
    """The landing key a clip starting at ``start_local`` (local time) is dropped under."""
    return f"cctv/{camera_id}/date={start_local:%Y-%m-%d}/{camera_id}_{start_local:%Y%m%dT%H%M%S}{suffix}"

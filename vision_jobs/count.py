"""Counting seam: line crossings by direction and class, zone occupancy, both per minute.

Pure code over tracks (ids, boxes, classes), testable with synthetic tracks. A crossing follows
roboflow supervision's LineZone idea: a track's ground point changes side of the segment while
inside the segment's extent. A dead band around the line keeps shake and box jitter from counting,
and a track's class is its majority class so far, so one mislabelled frame cannot move a count.
Like Ultralytics' ObjectCounter, a track counts once per line, at its first crossing: a box that
stands on the line and swings across it by more than the dead band (a long bus in rain) is one
vehicle, not one per swing. Unlike it, a counted track re-arms once its ground point is further than
the re-arm distance past the line: a person who walks on and later crosses back (a U-turn), or whose
track id the tracker hands to someone on the far kerb who then crosses, counts again. At the clip's
two edges there is no jitter left to wait out: a track that starts the clip inside the dead band
takes the side it stands on, and one that ends the clip inside the dead band but past the line
counts when the clip is closed (:meth:`ClipCounter.close`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from matplotlib.path import Path

from vision_jobs.config import CountConfig
from vision_jobs.detections import Tracks
from vision_jobs.registry import CameraConfig, CountingLine, Zone


@dataclass(frozen=True)
class Crossing:
    line_id: str
    direction: str
    object_class: str
    track_id: int
    frame_index: int
    timestamp: datetime


class LineCounter:
    """Crossings of one counting line, in pixel coordinates of the analysed frames."""

    def __init__(self, line: CountingLine, frame_size: tuple[int, int], counting: CountConfig) -> None:
        width, height = frame_size
        self.line = line
        self.start = np.array([line.start[0] * width, line.start[1] * height])
        end = np.array([line.end[0] * width, line.end[1] * height])
        self.along = end - self.start
        self.length = float(np.linalg.norm(self.along))
        # Normal in pixel space, in the same sense as the registry's normalised normal.
        self.normal = np.array([-self.along[1], self.along[0]]) / self.length
        diagonal = float(np.hypot(width, height))
        self.dead_band_px = counting.dead_band * diagonal
        self.rearm_px = counting.rearm_distance * diagonal
        self.positive_name = line.direction_towards_positive_side()
        self.negative_name = line.direction_towards_negative_side()
        self._last_side: dict[int, int] = {}
        self._counted: dict[int, int] = {}  # counted track -> the side it crossed to, until it re-arms
        # Tracks of the latest frame inside the dead band: (side by sign alone, within extent, class).
        self._in_band: dict[int, tuple[int, bool, str]] = {}
        self._latest: tuple[int, datetime] | None = None  # (frame index, time) of the latest update

    def sides(self, anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Side of each point (-1, 0 in the dead band, +1), its side by sign alone, whether it lies
        within the segment's extent, and its distance from the line in pixels."""
        relative = anchors - self.start
        signed = relative @ self.normal
        distance = np.abs(signed)
        sign = np.sign(signed).astype(int)
        side = np.where(distance <= self.dead_band_px, 0, sign)
        position = relative @ self.along / self.length**2
        return side, sign, (position >= 0) & (position <= 1), distance

    def _crossing(
        self, track: int, side: int, inside: bool, object_class: str, frame_index: int, timestamp: datetime
    ) -> Crossing | None:
        """The crossing of ``track`` onto ``side``, unless it is not one to count."""
        previous = self._last_side.get(track)
        if previous is None or previous == side or not inside or track in self._counted:
            return None
        if self.line.classes is not None and object_class not in self.line.classes:
            return None
        self._counted[track] = side
        direction = self.positive_name if side > 0 else self.negative_name
        return Crossing(self.line.line_id, direction, object_class, track, frame_index, timestamp)

    def update(
        self,
        track_ids: np.ndarray,
        anchors: np.ndarray,
        classes: list[str],
        frame_index: int,
        timestamp: datetime,
    ) -> list[Crossing]:
        first = self._latest is None
        self._latest = (frame_index, timestamp)
        self._in_band = {}
        if len(track_ids) == 0:
            return []
        crossings = []
        sides, signs, within, distances = self.sides(anchors)
        for track_id, side, sign, inside, distance, object_class in zip(
            track_ids, sides, signs, within, distances, classes, strict=True
        ):
            track = int(track_id)
            if side == 0:
                self._in_band[track] = (int(sign), bool(inside), object_class)
                if first and sign != 0:
                    self._last_side[track] = int(sign)
                continue
            crossing = self._crossing(track, int(side), bool(inside), object_class, frame_index, timestamp)
            self._last_side[track] = int(side)
            if crossing is not None:
                crossings.append(crossing)
            elif self._counted.get(track) == side and distance > self.rearm_px:
                del self._counted[track]  # far past the line it was counted on: the next crossing counts
        return crossings

    def close(self) -> list[Crossing]:
        """Count the tracks that end the clip inside the dead band, past the line they came from."""
        if self._latest is None:
            return []
        crossings = [
            self._crossing(track, sign, inside, object_class, *self._latest)
            for track, (sign, inside, object_class) in self._in_band.items()
            if sign != 0
        ]
        self._in_band = {}
        return [c for c in crossings if c is not None]


class ZoneOccupancy:
    """How many objects of each class stand in a zone, frame by frame."""

    def __init__(self, zone: Zone, frame_size: tuple[int, int]) -> None:
        width, height = frame_size
        self.zone = zone
        # matplotlib's point-in-path test is even-odd, so a concave zone (an L-shaped kerb) works.
        self.polygon = Path([(x * width, y * height) for x, y in zone.polygon])

    def occupancy(self, anchors: np.ndarray, classes: list[str]) -> Counter[str]:
        if len(anchors) == 0:
            return Counter()
        inside = self.polygon.contains_points(anchors)
        return Counter(c for c, i in zip(classes, inside, strict=True) if i)


def minute_of(timestamp: datetime) -> datetime:
    return timestamp.replace(second=0, microsecond=0)


@dataclass
class _ZoneMinute:
    frames: int = 0
    totals: Counter[str] = field(default_factory=Counter)
    peaks: Counter[str] = field(default_factory=Counter)


class ClipCounter:
    """All lines and zones of one camera over one clip, rolled up per minute."""

    def __init__(
        self,
        camera: CameraConfig,
        frame_size: tuple[int, int],
        counting: CountConfig,
        class_names: dict[int, str],
    ) -> None:
        self.lines = [LineCounter(line, frame_size, counting) for line in camera.lines]
        self.zones = [ZoneOccupancy(zone, frame_size) for zone in camera.zones]
        self.class_names = class_names
        self.crossings: list[Crossing] = []
        self._votes: dict[int, Counter[str]] = defaultdict(Counter)
        self._frames_per_minute: Counter[datetime] = Counter()
        self._zone_minutes: dict[tuple[datetime, str], _ZoneMinute] = {}

    def track_classes(self, tracks: Tracks) -> list[str]:
        """Each track's majority class so far, this frame's vote included."""
        classes = []
        for track_id, class_id in zip(tracks.track_id, tracks.class_id, strict=True):
            votes = self._votes[int(track_id)]
            votes[self.class_names.get(int(class_id), str(class_id))] += 1
            classes.append(votes.most_common(1)[0][0])
        return classes

    def update(self, frame_index: int, timestamp: datetime, tracks: Tracks) -> list[Crossing]:
        classes = self.track_classes(tracks)
        anchors = tracks.anchors() if len(tracks) else np.zeros((0, 2))
        new = []
        for line in self.lines:
            new.extend(line.update(tracks.track_id, anchors, classes, frame_index, timestamp))
        self.crossings.extend(new)
        minute = minute_of(timestamp)
        self._frames_per_minute[minute] += 1
        for zone in self.zones:
            tally = self._zone_minutes.setdefault((minute, zone.zone.zone_id), _ZoneMinute())
            tally.frames += 1
            for object_class, n in zone.occupancy(anchors, classes).items():
                tally.totals[object_class] += n
                tally.peaks[object_class] = max(tally.peaks[object_class], n)
        return new

    def close(self) -> list[Crossing]:
        """End of the clip: count the crossings still inside a line's dead band (see the module note)."""
        new = [crossing for line in self.lines for crossing in line.close()]
        self.crossings.extend(new)
        return new

    def counts_per_minute(self) -> list[dict[str, object]]:
        """Rows of (minute_start, line_id, direction, object_class, crossings)."""
        tally = Counter(
            (minute_of(c.timestamp), c.line_id, c.direction, c.object_class) for c in self.crossings
        )
        return [
            {"minute_start": m, "line_id": line, "direction": d, "object_class": cls, "crossings": n}
            for (m, line, d, cls), n in sorted(tally.items())
        ]

    def coverage_per_minute(self, sampled_fps: float) -> list[dict[str, object]]:
        """Rows of (minute_start, frames, observed_seconds): every minute the clip saw, crossings or not.

        Each analysed frame stands for 1/sampled_fps seconds of footage, so a minute the clip only
        partly covers (it starts or ends inside it) reads as the seconds it covered, not as a whole
        minute: hourly volumes are scaled from these seconds.
        """
        return [
            {"minute_start": m, "frames": n, "observed_seconds": min(60.0, n / sampled_fps)}
            for m, n in sorted(self._frames_per_minute.items())
        ]

    def occupancy_per_minute(self) -> list[dict[str, object]]:
        """Rows of (minute_start, zone_id, object_class, frames, mean_occupancy, max_occupancy)."""
        rows = []
        for (minute, zone_id), tally in sorted(self._zone_minutes.items()):
            for object_class in sorted(tally.totals):
                rows.append(
                    {
                        "minute_start": minute,
                        "zone_id": zone_id,
                        "object_class": object_class,
                        "frames": tally.frames,
                        "mean_occupancy": tally.totals[object_class] / tally.frames,
                        "max_occupancy": tally.peaks[object_class],
                    }
                )
        return rows

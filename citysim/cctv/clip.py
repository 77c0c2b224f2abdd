"""Render a clip to a real encoded video file, with its ground truth beside it.

Ground truth is what the vision job is judged against: every visible object's box in every frame,
every licence plate's and face's box, and every true crossing of each counting line (computed from the
simulated ground positions, not from pixels).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import polars as pl

from cityplatform.layout import ClipName
from citysim.cctv.agents import Pedestrian, Street, TrafficLevel, Vehicle
from citysim.cctv.camera import CameraEffects
from citysim.cctv.render import (
    Box,
    Conditions,
    draw_lamp_post,
    draw_lights,
    draw_pedestrian,
    draw_vehicle,
    static_scene,
)
from citysim.cctv.scene import SCENES, CountingLine

CODECS = {".mp4": "mp4v", ".avi": "MJPG"}
BOX_SCHEMA = {
    "frame_index": pl.Int32,
    "object_id": pl.Int32,
    "object_class": pl.Utf8,
    "kind": pl.Utf8,  # "object", "plate" (a vehicle's) or "face" (a pedestrian's)
    "x1": pl.Float32,
    "y1": pl.Float32,
    "x2": pl.Float32,
    "y2": pl.Float32,
}


@dataclass(frozen=True)
class ClipSpec:
    """Everything that decides a clip's content: same spec, same pixels.

    ``start`` is in the city's local time: its zone (the caller's, from ``Settings.zone``) is the one
    the clip's name and landing date are written in.
    """

    camera_id: str = "cam-01"
    start: datetime = datetime(2025, 5, 12, 8, 0, 0, tzinfo=UTC)
    seconds: float = 20.0
    fps: float = 30.0
    width: int = 640
    height: int = 360
    conditions: Conditions = field(default_factory=Conditions)
    traffic: TrafficLevel = field(default_factory=TrafficLevel)
    seed: int = 0
    warmup_s: float = 25.0

    @property
    def name(self) -> ClipName:
        return ClipName(self.camera_id, self.start)

    @property
    def clip_name(self) -> str:
        return self.name.format()


@dataclass
class ClipTruth:
    """Ground truth of one rendered clip."""

    spec: ClipSpec
    frames: int
    boxes: pl.DataFrame
    crossings: pl.DataFrame  # frame_index, object_id, object_class, line_id, direction

    def counts(self) -> dict[tuple[str, str, str], int]:
        """True crossings by (line, direction, class)."""
        grouped = self.crossings.group_by("line_id", "direction", "object_class").len()
        return {
            (r["line_id"], r["direction"], r["object_class"]): r["len"] for r in grouped.iter_rows(named=True)
        }

    def save(self, video_path: Path) -> tuple[Path, Path]:
        """Write ``<clip>.truth.json`` (spec, counts, crossings) and ``<clip>.boxes.parquet`` beside it."""
        stem = video_path.with_suffix("")
        json_path, boxes_path = Path(f"{stem}.truth.json"), Path(f"{stem}.boxes.parquet")
        spec = asdict(self.spec)
        spec["start"] = self.spec.start.isoformat()
        document = {
            "clip": self.spec.clip_name,
            "spec": spec,
            "frames": self.frames,
            "counts": [
                {"line_id": k[0], "direction": k[1], "object_class": k[2], "crossings": v}
                for k, v in sorted(self.counts().items())
            ],
            "crossings": self.crossings.to_dicts(),
        }
        json_path.write_text(json.dumps(document, indent=1))
        self.boxes.write_parquet(boxes_path)
        return json_path, boxes_path


def _segments_cross(
    p: tuple[float, float], q: tuple[float, float], a: tuple[float, float], b: tuple[float, float]
) -> bool:
    """Whether the path p->q strictly crosses the segment a-b."""

    def orient(o: tuple[float, float], u: tuple[float, float], v: tuple[float, float]) -> float:
        return (u[0] - o[0]) * (v[1] - o[1]) - (u[1] - o[1]) * (v[0] - o[0])

    d1, d2 = orient(a, b, p), orient(a, b, q)
    d3, d4 = orient(p, q, a), orient(p, q, b)
    return d1 * d2 < 0 and d3 * d4 < 0


def _direction(line: CountingLine, motion: tuple[float, float]) -> str:
    return max(line.directions, key=lambda name: np.dot(line.directions[name], motion))


def _visible(box: Box, width: int, height: int) -> Box | None:
    x1, y1, x2, y2 = box
    cx1, cy1, cx2, cy2 = max(0.0, x1), max(0.0, y1), min(float(width), x2), min(float(height), y2)
    if cx2 - cx1 < 0.3 * (x2 - x1) or cy2 - cy1 < 0.3 * (y2 - y1):
        return None
    return (cx1, cy1, cx2, cy2)


def render_clip(spec: ClipSpec, video_path: Path) -> ClipTruth:
    """Simulate, draw and encode one clip; return its ground truth."""
    layout = SCENES[spec.camera_id]
    codec = CODECS.get(video_path.suffix.lower())
    if codec is None:
        raise ValueError(f"unsupported video suffix {video_path.suffix!r}: use one of {sorted(CODECS)}")
    rng = np.random.default_rng(spec.seed)
    street = Street(layout, spec.width, spec.height, spec.fps, rng, spec.traffic)
    for _ in range(round(spec.warmup_s * spec.fps)):
        street.step()
    background = static_scene(street, seed=zlib.crc32(spec.camera_id.encode()))
    effects = CameraEffects(spec.width, spec.height, spec.conditions, rng)
    lines = [(line, _scaled(line.start, spec), _scaled(line.end, spec)) for line in layout.lines]
    writer = cv2.VideoWriter(
        str(video_path), cv2.VideoWriter_fourcc(*codec), spec.fps, (spec.width, spec.height)
    )
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {video_path} with codec {codec}")
    boxes: list[tuple] = []
    crossings: list[tuple] = []
    frames = round(spec.seconds * spec.fps)
    try:
        for index in range(frames):
            frame, frame_boxes = _draw_frame(street, background, effects, spec, index)
            boxes.extend(frame_boxes)
            writer.write(frame)
            before = street.ground_points()
            street.step()
            after = street.ground_points()
            for object_id, (cls, x, y) in after.items():
                if object_id not in before:
                    continue
                p, q = before[object_id][1:], (x, y)
                for line, a, b in lines:
                    if _segments_cross(p, q, a, b):
                        motion = (q[0] - p[0], q[1] - p[1])
                        crossings.append((index + 1, object_id, cls, line.line_id, _direction(line, motion)))
    finally:
        writer.release()
    return ClipTruth(
        spec=spec,
        frames=frames,
        boxes=pl.DataFrame(boxes, schema=BOX_SCHEMA, orient="row"),
        crossings=pl.DataFrame(
            [c for c in crossings if c[0] < frames],
            schema={
                "frame_index": pl.Int32,
                "object_id": pl.Int32,
                "object_class": pl.Utf8,
                "line_id": pl.Utf8,
                "direction": pl.Utf8,
            },
            orient="row",
        ),
    )


def _scaled(point: tuple[float, float], spec: ClipSpec) -> tuple[float, float]:
    return (point[0] * spec.width, point[1] * spec.height)


def _draw_frame(
    street: Street, background: np.ndarray, effects: CameraEffects, spec: ClipSpec, index: int
) -> tuple[np.ndarray, list[tuple]]:
    frame = background.copy()
    offset = effects.shake()
    rows: list[tuple] = []
    drawables: list[tuple[float, Vehicle | Pedestrian]] = [
        (street.py(v.lane.ground_y), v) for v in street.vehicles
    ]
    drawables += [(p.y, p) for p in street.pedestrians]
    drawables.sort(key=lambda item: item[0])
    lit = []
    for ground_y, road_user in drawables:
        if isinstance(road_user, Pedestrian):
            box = road_user.box()
            face = draw_pedestrian(frame, road_user, box)
            rows.extend(_rows(index, road_user.object_id, "person", "object", box, offset, spec))
            rows.extend(_rows(index, road_user.object_id, "person", "face", face, offset, spec))
            continue
        box = road_user.box(ground_y)
        plates = draw_vehicle(frame, road_user, box)
        lit.append((road_user, box))
        rows.extend(_rows(index, road_user.object_id, road_user.kind, "object", box, offset, spec))
        for plate in plates:
            rows.extend(_rows(index, road_user.object_id, road_user.kind, "plate", plate, offset, spec))
    draw_lamp_post(frame, street)
    frame = effects.expose(frame)
    if spec.conditions.night:
        for vehicle, box in lit:
            draw_lights(frame, vehicle, box)
    return effects.finish(frame, offset), rows


def _rows(
    index: int, object_id: int, cls: str, kind: str, box: Box, offset: tuple[int, int], spec: ClipSpec
) -> list[tuple]:
    shifted = (box[0] + offset[0], box[1] + offset[1], box[2] + offset[0], box[3] + offset[1])
    visible = _visible(shifted, spec.width, spec.height)
    return [] if visible is None else [(index, object_id, cls, kind, *visible)]

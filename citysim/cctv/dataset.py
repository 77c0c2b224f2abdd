"""Varied clip specs and a YOLO-format training set cut from rendered, encoded clips.

Frames for training are decoded back from the encoded video so the detector learns on the same
compression artefacts it meets in the job.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import polars as pl
import yaml

from citysim.cctv.agents import CLASS_NAMES, TrafficLevel
from citysim.cctv.clip import ClipSpec, ClipTruth, render_clip
from citysim.cctv.render import Conditions
from citysim.cctv.scene import SCENES

# Seeds below this are for training; evaluation uses seeds at or above it, so no clip is shared.
HELD_OUT_SEED_BASE = 10_000
# A person at least this much behind nearer road users is "mostly hidden" (share of their box).
MOSTLY_HIDDEN = 0.5


def varied_spec(
    seed: int, seconds: float = 20.0, camera_id: str | None = None, night_share: float = 0.3
) -> ClipSpec:
    """A clip spec whose camera, lighting, rain, shake and traffic all follow from the seed.

    ``night_share`` is the chance of a night clip; raising it draws the same random numbers, so a
    clip that was at night stays at night and every other property of each seed stays the same.
    """
    rng = np.random.default_rng(seed)
    cameras = sorted(SCENES)
    camera = camera_id or cameras[seed % len(cameras)]
    night = bool(rng.random() < night_share)
    rain = float(rng.uniform(0.3, 0.9)) if rng.random() < 0.3 else 0.0
    hour = int(rng.integers(20, 24)) if night else int(rng.integers(7, 18))
    # Training and evaluation clips are never landed, so no city's zone applies to their names.
    start = datetime(2025, 5, 12, tzinfo=UTC) + timedelta(
        days=int(rng.integers(0, 28)), hours=hour, minutes=int(rng.integers(0, 60))
    )
    traffic = TrafficLevel(
        vehicles_per_s_per_lane=float(rng.uniform(0.3, 0.5)),
        pedestrians_per_s_per_entry=float(rng.uniform(0.08, 0.16)),
    )
    return ClipSpec(
        camera_id=camera,
        start=start,
        seconds=seconds,
        conditions=Conditions(night=night, rain=rain, jitter_px=float(rng.uniform(0, 3))),
        traffic=traffic,
        seed=seed,
    )


def yolo_labels(truth: ClipTruth, frame_index: int) -> list[str]:
    """One ``class cx cy w h`` line (normalised) per visible object in the frame."""
    spec = truth.spec
    rows = truth.boxes.filter((truth.boxes["frame_index"] == frame_index) & (truth.boxes["kind"] == "object"))
    lines = []
    for r in rows.iter_rows(named=True):
        cx, cy = (r["x1"] + r["x2"]) / 2 / spec.width, (r["y1"] + r["y2"]) / 2 / spec.height
        w, h = (r["x2"] - r["x1"]) / spec.width, (r["y2"] - r["y1"]) / spec.height
        lines.append(f"{CLASS_NAMES.index(r['object_class'])} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
    return lines


def hidden_share(xyxy: np.ndarray) -> np.ndarray:
    """Share of each box covered by the boxes of road users nearer the camera.

    The simulator draws far to near, so a box whose bottom (ground line) is lower in the frame is
    drawn over the ones above it. Boxes are coarser than the drawn shapes, so this over-states.
    """
    shares = np.zeros(len(xyxy))
    for i, (x1, y1, x2, y2) in enumerate(xyxy):
        width, height = round(x2 - x1), round(y2 - y1)
        if width <= 0 or height <= 0:
            continue
        covered = np.zeros((height, width), dtype=bool)
        for ox1, oy1, ox2, oy2 in xyxy[xyxy[:, 3] > y2]:
            rows = slice(max(0, round(oy1 - y1)), max(0, round(oy2 - y1)))
            columns = slice(max(0, round(ox1 - x1)), max(0, round(ox2 - x1)))
            covered[rows, columns] = True
        shares[i] = covered.mean()
    return shares


def training_frames(
    boxes: pl.DataFrame, frames: int, every_n_frames: int, occluded_every_n_frames: int | None = None
) -> list[int]:
    """Every n-th frame, plus every m-th frame in which a person is mostly hidden.

    At one frame a second, people walking close behind one another are rare in training, and they are
    where the detector is weakest (see vision_jobs/models/MODEL_CARD.md).
    """
    keep = set(range(0, frames, every_n_frames))
    if occluded_every_n_frames:
        objects = boxes.filter(
            (pl.col("kind") == "object") & (pl.col("frame_index") % occluded_every_n_frames == 0)
        )
        for (frame_index,), frame in objects.group_by("frame_index"):
            shares = hidden_share(frame.select("x1", "y1", "x2", "y2").to_numpy())
            people = (frame["object_class"] == "person").to_numpy()
            if (shares[people] >= MOSTLY_HIDDEN).any():
                keep.add(int(frame_index))  # type: ignore[arg-type]
    return sorted(keep)


def export_split(
    specs: Iterable[ClipSpec],
    out_dir: Path,
    split: str,
    every_n_frames: int,
    occluded_every_n_frames: int | None = None,
) -> int:
    """Render each clip, decode its :func:`training_frames`, write them with labels; return images written."""
    images, labels = out_dir / "images" / split, out_dir / "labels" / split
    images.mkdir(parents=True, exist_ok=True)
    labels.mkdir(parents=True, exist_ok=True)
    written = 0
    with tempfile.TemporaryDirectory() as tmp:
        for spec in specs:
            video = Path(tmp) / f"{spec.clip_name}_{spec.seed}.mp4"
            truth = render_clip(spec, video)
            keep = set(training_frames(truth.boxes, truth.frames, every_n_frames, occluded_every_n_frames))
            capture = cv2.VideoCapture(str(video))
            index = 0
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                if index in keep:
                    name = f"{spec.clip_name}_s{spec.seed}_f{index:05d}"
                    cv2.imwrite(str(images / f"{name}.jpg"), frame, [cv2.IMWRITE_JPEG_QUALITY, 92])
                    (labels / f"{name}.txt").write_text("\n".join(yolo_labels(truth, index)))
                    written += 1
                index += 1
            capture.release()
            video.unlink()
    return written


def write_data_yaml(out_dir: Path) -> Path:
    """The Ultralytics dataset description for a folder written by :func:`export_split`."""
    path = out_dir / "data.yaml"
    document = {
        "path": str(out_dir.resolve()),
        "train": "images/train",
        "val": "images/val",
        "names": dict(enumerate(CLASS_NAMES)),
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path

"""Synthetic CCTV: real encoded video, ground truth that agrees with itself, a trainable dataset."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import polars as pl
import pytest

from citysim.cctv import CLASS_NAMES, ClipSpec, ClipTruth, Conditions, render_clip
from citysim.cctv.dataset import (
    export_split,
    hidden_share,
    training_frames,
    varied_spec,
    write_data_yaml,
)

SHORT = ClipSpec(camera_id="cam-02", seconds=4, warmup_s=20, seed=7, conditions=Conditions(jitter_px=2))


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ClipTruth]:
    path = tmp_path_factory.mktemp("cctv") / f"{SHORT.clip_name}.mp4"
    return path, render_clip(SHORT, path)


def test_the_video_is_a_real_encoded_file_with_every_frame(rendered: tuple[Path, ClipTruth]) -> None:
    path, truth = rendered
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames += 1
        assert frame.shape == (SHORT.height, SHORT.width, 3)
    capture.release()
    assert frames == truth.frames == 120
    assert set(truth.boxes["frame_index"].unique()) == set(range(120))


def test_same_spec_same_truth(rendered: tuple[Path, ClipTruth], tmp_path: Path) -> None:
    _, truth = rendered
    again = render_clip(SHORT, tmp_path / "again.avi")
    assert again.boxes.equals(truth.boxes)
    assert again.crossings.equals(truth.crossings)


def test_plates_sit_inside_their_vehicle(rendered: tuple[Path, ClipTruth]) -> None:
    _, truth = rendered
    objects = truth.boxes.filter(pl.col("kind") == "object")
    plates = truth.boxes.filter(pl.col("kind") == "plate")
    assert plates.height > 0
    # a vehicle mostly outside the frame is not labelled, though its plate may still show
    joined = plates.join(objects, on=["frame_index", "object_id"], suffix="_body")
    assert joined.height > 0.9 * plates.height
    inside = joined.filter(
        (pl.col("x1") >= pl.col("x1_body") - 0.5)
        & (pl.col("x2") <= pl.col("x2_body") + 0.5)
        & (pl.col("y1") >= pl.col("y1_body"))
        & (pl.col("y2") <= pl.col("y2_body"))
    )
    assert inside.height == joined.height


def test_crossings_agree_with_the_boxes(tmp_path: Path) -> None:
    """A true eastbound crossing is an object whose box moved right across the line, and so on."""
    spec = ClipSpec(camera_id="cam-01", seconds=12, seed=3)
    truth = render_clip(spec, tmp_path / "c.mp4")
    assert truth.crossings.height > 0
    movement = {"eastbound": (0, 1), "westbound": (0, -1), "southbound": (1, 1), "northbound": (1, -1)}
    for c in truth.crossings.iter_rows(named=True):
        track = truth.boxes.filter((pl.col("object_id") == c["object_id"]) & (pl.col("kind") == "object"))
        before = track.filter(pl.col("frame_index") < c["frame_index"]).tail(1)
        after = track.filter(pl.col("frame_index") >= c["frame_index"]).head(1)
        axis, sign = movement[c["direction"]]
        centre = (
            [(before["x1"] + before["x2"]) / 2, before["y2"]][axis][0],
            [(after["x1"] + after["x2"]) / 2, after["y2"]][axis][0],
        )
        assert (centre[1] - centre[0]) * sign > 0, c
        vehicle = c["object_class"] != "person"
        assert (c["line_id"] == "road") == vehicle


def test_night_is_darker_and_rain_adds_noise(tmp_path: Path) -> None:
    def mean_and_noise(conditions: Conditions) -> tuple[float, float]:
        spec = ClipSpec(seconds=0.2, warmup_s=1, seed=1, conditions=conditions)
        path = tmp_path / f"{conditions.night}-{conditions.rain}.avi"
        render_clip(spec, path)
        ok, frame = cv2.VideoCapture(str(path)).read()
        assert ok
        sky = frame[0:10].astype(float)
        return float(frame.mean()), float(sky.std())

    day, night, rain = (
        mean_and_noise(c) for c in (Conditions(), Conditions(night=True), Conditions(rain=0.9))
    )
    assert night[0] < 0.6 * day[0]
    assert rain[1] > day[1]


def test_a_larger_night_share_only_turns_day_clips_into_night_clips() -> None:
    usual = [varied_spec(seed) for seed in range(40)]
    darker = [varied_spec(seed, night_share=0.7) for seed in range(40)]
    assert sum(s.conditions.night for s in darker) > sum(s.conditions.night for s in usual) > 0
    for before, after in zip(usual, darker, strict=True):
        assert after.conditions.night or not before.conditions.night
        assert (after.camera_id, after.traffic, after.conditions.rain) == (
            before.camera_id,
            before.traffic,
            before.conditions.rain,
        )
    assert all(varied_spec(seed, night_share=1.0).conditions.night for seed in range(10))


def test_unsupported_container_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unsupported video suffix"):
        render_clip(SHORT, tmp_path / "clip.webm")


def test_yolo_export_writes_images_with_valid_labels(tmp_path: Path) -> None:
    spec = ClipSpec(camera_id="cam-03", seconds=1, warmup_s=20, seed=11)
    written = export_split([spec], tmp_path, "train", every_n_frames=10)
    assert written == 3
    data_yaml = write_data_yaml(tmp_path)
    assert "names" in data_yaml.read_text()
    labels = list((tmp_path / "labels" / "train").glob("*.txt"))
    assert len(labels) == 3
    rows = [line.split() for label in labels for line in label.read_text().splitlines()]
    assert rows
    for cls, *coords in rows:
        assert 0 <= int(cls) < len(CLASS_NAMES)
        assert all(0.0 <= float(v) <= 1.0 for v in coords)


def test_hidden_share_counts_only_road_users_nearer_the_camera() -> None:
    # B stands lower in the frame (nearer) and covers A's bottom half; C is farther and overlaps B.
    a, b, c = (0, 0, 10, 20), (0, 10, 10, 30), (5, 15, 15, 25)
    assert hidden_share(np.array([a, b, c], dtype=float)).tolist() == [0.5, 0.0, 0.5]


def test_training_frames_add_frames_with_a_mostly_hidden_person() -> None:
    def box(frame: int, cls: str, xyxy: tuple[int, int, int, int]) -> dict[str, object]:
        return dict(zip(("x1", "y1", "x2", "y2"), map(float, xyxy), strict=True)) | {
            "frame_index": frame,
            "object_id": 0,
            "object_class": cls,
            "kind": "object",
        }

    boxes = pl.DataFrame(
        [
            box(4, "person", (0, 0, 10, 20)),  # half hidden behind the car
            box(4, "car", (0, 10, 10, 30)),
            box(6, "car", (0, 0, 10, 20)),  # a car hidden behind a person is not what is sampled
            box(6, "person", (0, 10, 10, 30)),
            box(7, "person", (0, 0, 10, 20)),  # hidden, but not on the every-m-th grid
            box(7, "car", (0, 10, 10, 30)),
        ]
    )
    assert training_frames(boxes, frames=12, every_n_frames=5) == [0, 5, 10]
    assert training_frames(boxes, frames=12, every_n_frames=5, occluded_every_n_frames=2) == [0, 4, 5, 10]

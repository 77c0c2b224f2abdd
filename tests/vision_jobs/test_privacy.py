"""Evidence frames: people and licence plates are unrecognisable, the rest of the frame is untouched."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from citysim.cctv import ClipTruth
from vision_jobs.privacy import anonymise, privacy_regions


def texture(shape: tuple[int, int]) -> np.ndarray:
    """A fine checkerboard: the kind of detail (text, faces) blurring must destroy."""
    ys, xs = np.indices(shape)
    board = (((xs // 2) + (ys // 2)) % 2 * 255).astype(np.uint8)
    return cv2.merge([board] * 3)


def detail(patch: np.ndarray) -> float:
    return float(np.abs(np.diff(patch.astype(np.int16), axis=1)).mean())


def test_person_blurred_whole_vehicle_only_below_its_plate_line() -> None:
    image = texture((200, 300))
    boxes = np.array([[20, 20, 60, 120], [120, 60, 280, 140], [10, 150, 60, 190]], np.float32)
    out = anonymise(7, image, boxes, ["person", "car", "traffic light"]).image
    assert detail(out[30:110, 28:52]) < 0.1 * detail(image[30:110, 28:52])  # the person
    assert detail(out[110:135, 130:270]) < 0.1 * detail(image[110:135, 130:270])  # the plate band
    assert np.array_equal(out[62:85, 130:270], image[62:85, 130:270])  # the car's roof and windows
    assert np.array_equal(out[150:190, 10:60], image[150:190, 10:60])  # other classes stay sharp
    assert np.array_equal(image, texture((200, 300)))  # the input frame is not modified


def test_regions_are_padded_and_clipped_to_the_frame() -> None:
    (region,) = privacy_regions(np.array([[-10, -10, 50, 40]], np.float32), ["person"], (30, 40, 3))
    assert region == (0, 0, 40, 30)


def test_every_simulated_plate_and_person_is_blurred(short_clip: tuple[Path, ClipTruth]) -> None:
    """With the simulator's own boxes, no ground-truth plate or person keeps its detail."""
    path, truth = short_clip
    capture = cv2.VideoCapture(str(path))
    ok, frame = capture.read()
    capture.release()
    assert ok
    rows = truth.boxes.filter(truth.boxes["frame_index"] == 0)
    objects = rows.filter(rows["kind"] == "object")
    boxes, classes = objects.select("x1", "y1", "x2", "y2").to_numpy(), objects["object_class"].to_list()
    out = anonymise(0, frame, boxes, classes).image
    sensitive = rows.filter((rows["kind"] == "plate") | (rows["object_class"] == "person"))
    assert sensitive.height > 3
    for r in sensitive.iter_rows(named=True):
        y1, y2, x1, x2 = int(r["y1"]) + 1, int(r["y2"]), int(r["x1"]) + 1, int(r["x2"])
        assert detail(out[y1:y2, x1:x2]) < 0.5 * detail(frame[y1:y2, x1:x2]), r

"""Evidence frames: fail-closed anonymisation, unreadable faces and plates even when nothing was detected."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import polars as pl
import pytest

from citysim.cctv import ClipSpec, render_clip
from vision_jobs.privacy import OUTLINE, anonymise, privacy_regions

# Laplacian variance (grey levels squared) under which a face or plate region holds no readable detail.
# In the simulator's frames an untouched face measures in the thousands and a plate around 60,000-90,000;
# the anonymised regions measure at most about 40.
UNREADABLE = 50.0


def sharpness(image: np.ndarray, box: tuple[float, float, float, float]) -> float:
    """High-frequency energy of a region: the variance of its Laplacian."""
    x1, y1, x2, y2 = max(0, int(box[0])), max(0, int(box[1])), int(np.ceil(box[2])), int(np.ceil(box[3]))
    grey = cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


@pytest.fixture(scope="module")
def busy_frame(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, pl.DataFrame]:
    """The simulator frame with the most faces and plates in a few seconds of cam-01, as decoded."""
    path = tmp_path_factory.mktemp("privacy") / "clip.mp4"
    truth = render_clip(ClipSpec(camera_id="cam-01", seconds=4, seed=5), path)
    sensitive = truth.boxes.filter(pl.col("kind").is_in(["face", "plate"]))
    busiest = sensitive.group_by("frame_index").len().sort("len", "frame_index", descending=True)
    index = int(busiest["frame_index"][0])
    capture = cv2.VideoCapture(str(path))
    capture.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, frame = capture.read()
    capture.release()
    assert ok
    return frame, sensitive.filter(pl.col("frame_index") == index)


def test_nothing_detected_still_leaves_no_readable_face_or_plate(
    busy_frame: tuple[np.ndarray, pl.DataFrame],
) -> None:
    """Fail-closed: a detector that finds nobody changes nothing about what is kept."""
    frame, sensitive = busy_frame
    kinds = sensitive["kind"].value_counts()
    assert dict(zip(kinds["kind"], kinds["count"], strict=True)).keys() == {"face", "plate"}
    kept = anonymise(0, frame, np.zeros((0, 4), np.float32), []).image
    before, after = [], []
    for r in sensitive.iter_rows(named=True):
        box = (r["x1"], r["y1"], r["x2"], r["y2"])
        before.append(sharpness(frame, box))
        after.append(sharpness(kept, box))
        assert after[-1] < UNREADABLE, r
    assert np.median(before) > 20 * UNREADABLE  # the regions were readable before: the check can fail


def test_detected_objects_are_outlined_and_people_blurred_besides() -> None:
    image = np.zeros((200, 300, 3), np.uint8)
    boxes = np.array([[20, 20, 60, 120], [120, 60, 280, 140]], np.float32)
    out = anonymise(7, image, boxes, ["person", "car"]).image
    assert tuple(out[20, 40]) == OUTLINE and tuple(out[100, 120]) == OUTLINE
    assert tuple(out[10, 10]) != OUTLINE
    assert not image.any()  # the input frame is not modified


def test_regions_are_padded_and_clipped_to_the_frame() -> None:
    (region,) = privacy_regions(np.array([[-10, -10, 50, 40]], np.float32), ["person"], (30, 40, 3))
    assert region == (0, 0, 40, 30)


def test_every_kept_region_of_a_real_clip_is_unreadable(tmp_path: Path) -> None:
    """Same check at another resolution: the grid is relative to the frame, so a larger frame (more
    pixels per face and plate) is pixelated as hard."""
    path = tmp_path / "clip.mp4"
    truth = render_clip(ClipSpec(camera_id="cam-02", seconds=2, seed=11, width=960, height=540), path)
    capture = cv2.VideoCapture(str(path))
    ok, frame = capture.read()
    capture.release()
    assert ok
    rows = truth.boxes.filter((pl.col("frame_index") == 0) & pl.col("kind").is_in(["face", "plate"]))
    assert rows.height > 0
    kept = anonymise(0, frame, np.zeros((0, 4), np.float32), []).image
    for r in rows.iter_rows(named=True):
        assert sharpness(kept, (r["x1"], r["y1"], r["x2"], r["y2"])) < UNREADABLE, r

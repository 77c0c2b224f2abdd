"""Tracking: Ultralytics' trackers keep ids on our detections, with the buffer set in seconds."""

from __future__ import annotations

import numpy as np
import pytest

from vision_jobs.config import TrackerConfig
from vision_jobs.detections import Detections
from vision_jobs.track import ObjectTracker


def two_objects(step: int) -> Detections:
    car = [10 + 8 * step, 50, 60 + 8 * step, 80]
    person = [200, 20 + 3 * step, 212, 50 + 3 * step]
    return Detections(np.array([car, person], np.float32), np.array([0.9, 0.8], np.float32), np.array([0, 4]))


@pytest.mark.parametrize("kind", ["bytetrack", "botsort"])
def test_ids_stay_with_their_objects(kind: str) -> None:
    tracker = ObjectTracker(TrackerConfig(kind=kind), sampled_fps=15)  # type: ignore[arg-type]
    frame = np.zeros((120, 320, 3), np.uint8)
    seen = [tracker.update(two_objects(step), frame) for step in range(12)]
    last = seen[-1]
    assert len(last) == 2
    ids_by_class = {int(c): int(t) for c, t in zip(last.class_id, last.track_id, strict=True)}
    for tracks in seen[2:]:
        for c, t in zip(tracks.class_id, tracks.track_id, strict=True):
            assert ids_by_class[int(c)] == int(t)


def test_lost_track_buffer_follows_the_sampled_frame_rate() -> None:
    config = TrackerConfig(lost_track_s=2.0)
    assert ObjectTracker(config, sampled_fps=15).lost_track_frames == 30
    slow = ObjectTracker(config, sampled_fps=5)
    assert slow.lost_track_frames == slow._tracker.max_frames_lost == 10

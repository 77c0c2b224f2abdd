"""Tracking seam: Ultralytics' ByteTrack or BoT-SORT fed with our detections, one tracker per clip.

Ultralytics' trackers keep a lost track for ``track_buffer`` *frames*; when the job skips frames
that is too long in seconds, so the buffer is set from the sampled frame rate (the analysed frames
per second), which is what "set the tracker frame rate to the sampled rate" amounts to here.
"""

from __future__ import annotations

import numpy as np

from vision_jobs.config import TrackerConfig
from vision_jobs.detections import Detections, Tracks


class ObjectTracker:
    """Stable ids across frames for one camera clip."""

    def __init__(self, config: TrackerConfig, sampled_fps: float) -> None:
        from ultralytics.trackers.track import TRACKER_MAP
        from ultralytics.utils import YAML, IterableSimpleNamespace
        from ultralytics.utils.checks import check_yaml

        args = IterableSimpleNamespace(**YAML.load(check_yaml(f"{config.kind}.yaml")))
        args.track_buffer = max(1, round(config.lost_track_s * sampled_fps))
        args.track_high_thresh = config.high_threshold
        args.track_low_thresh = config.low_threshold
        args.new_track_thresh = config.new_track_threshold
        args.match_thresh = config.match_threshold
        if config.kind == "botsort":
            args.with_reid = False  # a ReID model would need a download; motion and IoU suffice here
        self.sampled_fps = sampled_fps
        self.lost_track_frames: int = args.track_buffer
        self._tracker = TRACKER_MAP[config.kind](args=args)

    def update(self, detections: Detections, frame: np.ndarray) -> Tracks:
        from ultralytics.engine.results import Boxes  # the NumPy-backed input the trackers read

        data = np.column_stack([detections.xyxy, detections.confidence, detections.class_id])
        rows = self._tracker.update(Boxes(data.astype(np.float32), frame.shape[:2]), frame)
        if len(rows) == 0:
            return Tracks.empty()
        rows = np.asarray(rows, dtype=np.float64)
        return Tracks(
            xyxy=rows[:, 0:4].astype(np.float32),
            track_id=rows[:, 4].astype(np.int64),
            confidence=rows[:, 5].astype(np.float32),
            class_id=rows[:, 6].astype(np.int32),
        )

"""Per-frame boxes passed between the seams: plain numpy arrays, no framework types."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Detections:
    """One frame's detections in that frame's pixel coordinates."""

    xyxy: np.ndarray  # (N, 4) float32
    confidence: np.ndarray  # (N,) float32
    class_id: np.ndarray  # (N,) int32

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32))

    def __len__(self) -> int:
        return len(self.confidence)


@dataclass(frozen=True)
class Tracks:
    """One frame's tracked objects: detections that carry a stable id across frames."""

    xyxy: np.ndarray  # (N, 4) float32
    track_id: np.ndarray  # (N,) int64
    confidence: np.ndarray  # (N,) float32
    class_id: np.ndarray  # (N,) int32

    @classmethod
    def empty(cls) -> Tracks:
        return cls(
            np.zeros((0, 4), np.float32),
            np.zeros(0, np.int64),
            np.zeros(0, np.float32),
            np.zeros(0, np.int32),
        )

    def __len__(self) -> int:
        return len(self.track_id)

    def anchors(self) -> np.ndarray:
        """Bottom-centre of each box: where the object touches the ground, which is what lines count."""
        return np.stack([(self.xyxy[:, 0] + self.xyxy[:, 2]) / 2, self.xyxy[:, 3]], axis=1)

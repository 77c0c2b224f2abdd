"""Detection seam: the ``Detector`` protocol and its Ultralytics implementation.

Ultralytics' ``predict`` ignores ``batch`` for a Python list and stacks the whole list into one
tensor, so frames are chunked here into ``batch_size`` pieces. Frames of one camera share a shape,
so each chunk letterboxes with minimal padding.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from vision_jobs.config import ModelConfig
from vision_jobs.detections import Detections


class Detector(Protocol):
    """Anything that turns a list of same-shaped BGR frames into per-frame detections."""

    @property
    def class_names(self) -> dict[int, str]: ...

    @property
    def description(self) -> dict[str, str]: ...

    def detect(self, frames: Sequence[np.ndarray]) -> list[Detections]: ...


def resolve_device(requested: str, half: bool | None) -> tuple[str, bool]:
    """'auto' means the first CUDA device with half precision when present, else the CPU in full precision."""
    import torch

    if requested == "auto":
        requested = "cuda:0" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {requested!r} requested but CUDA is not available here")
    on_gpu = requested.startswith("cuda")
    return requested, (on_gpu if half is None else half and on_gpu)


class UltralyticsDetector:
    """Any Ultralytics detection model (a path or a name Ultralytics can resolve), batched."""

    def __init__(self, config: ModelConfig) -> None:
        from ultralytics import YOLO

        self.config = config
        self.device, self.half = resolve_device(config.device, config.half)
        self.model = YOLO(config.weights, task="detect")

    @property
    def class_names(self) -> dict[int, str]:
        return dict(self.model.names)

    @cached_property
    def weights_sha256(self) -> str:
        path = Path(self.config.weights)
        return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "unknown"

    @property
    def description(self) -> dict[str, str]:
        return {
            "model": Path(self.config.weights).name,
            "weights_sha256": self.weights_sha256,
            "device": self.device,
            "half": str(self.half),
            "batch_size": str(self.config.batch_size),
            "imgsz": str(self.config.imgsz),
        }

    def predict_chunk(self, frames: Sequence[np.ndarray]) -> list:
        """One raw Ultralytics ``predict`` call (also what the benchmark times as the baseline)."""
        return self.model.predict(
            list(frames),
            imgsz=self.config.imgsz,
            conf=self.config.confidence,
            iou=self.config.iou,
            agnostic_nms=self.config.agnostic_nms,
            device=self.device,
            quantize=16 if self.half else None,
            verbose=False,
        )

    def detect(self, frames: Sequence[np.ndarray]) -> list[Detections]:
        out: list[Detections] = []
        size = self.config.batch_size
        for start in range(0, len(frames), size):
            for result in self.predict_chunk(frames[start : start + size]):
                boxes = result.boxes.cpu().numpy()
                out.append(
                    Detections(
                        xyxy=boxes.xyxy.astype(np.float32),
                        confidence=boxes.conf.astype(np.float32),
                        class_id=boxes.cls.astype(np.int32),
                    )
                )
        return out

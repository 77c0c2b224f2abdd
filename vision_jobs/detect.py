"""Detection seam: the ``Detector`` protocol and its Ultralytics implementation.

Any detection model works: the configuration's class map names which of the model's classes are
which platform class (:data:`~vision_jobs.config.PLATFORM_CLASSES`). Only mapped classes are asked of
``predict`` (``classes=``), and the map is applied once, right after detection: from there on,
tracking, counting, tables and privacy see platform class ids and names only.

Ultralytics' ``predict`` ignores ``batch`` for a Python list and stacks the whole list into one
tensor, so frames are chunked here into ``batch_size`` pieces. Frames of one camera share a shape,
so each chunk letterboxes with minimal padding.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from vision_jobs.artifacts import sha256_file
from vision_jobs.config import PLATFORM_CLASSES, ModelConfig
from vision_jobs.detections import Detections


class Detector(Protocol):
    """Anything that turns a list of same-shaped BGR frames into per-frame detections, whose class ids
    are platform class ids (``class_names``: id -> platform class)."""

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


class ClassMap:
    """A model's class ids -> platform class ids, for the model's classes the configuration maps."""

    def __init__(self, model_names: dict[int, str], class_map: dict[str, str]) -> None:
        self.model_names = dict(model_names)
        self.to_platform = {
            model_id: PLATFORM_CLASSES.index(class_map[name])
            for model_id, name in sorted(model_names.items())
            if name in class_map
        }
        if not self.to_platform:
            raise ValueError(
                f"none of the model's classes ({', '.join(model_names.values())}) is in the class map"
            )
        self._lookup = np.full(max(model_names) + 1, -1, np.int32)  # -1: a class the map leaves out
        self._lookup[list(self.to_platform)] = list(self.to_platform.values())

    @property
    def model_ids(self) -> list[int]:
        """The model classes to ask ``predict`` for."""
        return sorted(self.to_platform)

    @property
    def names(self) -> dict[int, str]:
        """The platform classes the model can report, by platform class id."""
        return {i: PLATFORM_CLASSES[i] for i in sorted(set(self.to_platform.values()))}

    def describe(self) -> str:
        return ", ".join(f"{self.model_names[m]}->{PLATFORM_CLASSES[p]}" for m, p in self.to_platform.items())

    def apply(self, detections: Detections) -> Detections:
        """Platform class ids; a box of an unmapped class is dropped (``classes=`` should have)."""
        class_id = self._lookup[detections.class_id]
        keep = class_id >= 0
        return Detections(detections.xyxy[keep], detections.confidence[keep], class_id[keep])


class UltralyticsDetector:
    """Any Ultralytics detection model (a path or a name Ultralytics can resolve), batched."""

    def __init__(self, config: ModelConfig) -> None:
        from ultralytics import YOLO

        self.config = config
        self.device, self.half = resolve_device(config.device, config.half)
        self.model = YOLO(config.weights, task="detect")
        try:
            self.classes = ClassMap(dict(self.model.names), config.class_map)
        except ValueError as exc:
            raise ValueError(f"{config.weights}: {exc}") from None

    @property
    def class_names(self) -> dict[int, str]:
        return self.classes.names

    @cached_property
    def weights_sha256(self) -> str:
        """Of the checkpoint Ultralytics loaded (a name it resolved included)."""
        path = Path(getattr(self.model, "ckpt_path", None) or self.config.weights)
        return sha256_file(path) if path.is_file() else "unknown"

    @property
    def description(self) -> dict[str, str]:
        return {
            "model": Path(self.config.weights).name,
            "weights_sha256": self.weights_sha256,
            "class_map": self.classes.describe(),
            "agnostic_nms": str(self.config.agnostic_nms),
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
            classes=self.classes.model_ids,
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
                raw = Detections(
                    xyxy=boxes.xyxy.astype(np.float32),
                    confidence=boxes.conf.astype(np.float32),
                    class_id=boxes.cls.astype(np.int32),
                )
                out.append(self.classes.apply(raw))
        return out

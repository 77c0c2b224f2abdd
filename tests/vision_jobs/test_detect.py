"""Detection: device choice, and batching that changes speed but never results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from citysim.cctv import ClipTruth
from vision_jobs.config import ModelConfig
from vision_jobs.decode import read_frames
from vision_jobs.detect import UltralyticsDetector, resolve_device


def test_auto_device_is_cpu_in_full_precision_without_cuda() -> None:
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        assert resolve_device("auto", None) == ("cuda:0", True)
    else:
        assert resolve_device("auto", None) == ("cpu", False)
        assert resolve_device("cpu", True) == ("cpu", False)  # no half precision on a CPU
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda:0", None)


def test_chunked_batches_give_the_same_detections_as_single_frames(
    short_clip: tuple[Path, ClipTruth], detector: UltralyticsDetector
) -> None:
    path, _ = short_clip
    frames = [f.image for f in read_frames(path, stride=12, long_side=detector.config.imgsz)][:11]
    single = UltralyticsDetector(ModelConfig(**{**detector.config.model_dump(), "batch_size": 1}))
    batched = UltralyticsDetector(ModelConfig(**{**detector.config.model_dump(), "batch_size": 4}))
    one_by_one, in_chunks = single.detect(frames), batched.detect(frames)
    assert len(in_chunks) == len(frames) == 11
    assert sum(len(d) for d in in_chunks) > 0
    for a, b in zip(one_by_one, in_chunks, strict=True):
        assert np.array_equal(a.class_id, b.class_id)
        assert np.allclose(a.xyxy, b.xyxy, atol=0.5)


def test_the_model_knows_the_simulator_classes(detector: UltralyticsDetector) -> None:
    assert set(detector.class_names.values()) == {"car", "bus", "truck", "motorbike", "person"}
    assert len(detector.description["weights_sha256"]) == 64

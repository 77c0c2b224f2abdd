"""Detection: device choice, and batching that changes speed but never results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from citysim.cctv import ClipTruth
from vision_jobs.config import PLATFORM_CLASSES, ModelConfig
from vision_jobs.decode import read_frames
from vision_jobs.detect import ClassMap, UltralyticsDetector, resolve_device


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


def test_a_model_without_a_settings_file_gets_coco_defaults(coco_weights: Path) -> None:
    """NMS and size belong to the model: per-class NMS for COCO weights (a rider and a bicycle stay two
    boxes), the shipped simulator model's own file for it."""
    coco = ModelConfig(weights=str(coco_weights))
    assert (coco.agnostic_nms, coco.iou, coco.imgsz) == (False, 0.7, 640)
    shipped = ModelConfig()
    assert (shipped.agnostic_nms, shipped.iou, shipped.imgsz) == (True, 0.45, 416)
    assert ModelConfig(agnostic_nms=False).agnostic_nms is False  # what the caller sets wins


def test_a_coco_named_model_reports_platform_classes(
    short_clip: tuple[Path, ClipTruth], detector: UltralyticsDetector, coco_weights: Path
) -> None:
    """The class map is applied once, after detection: COCO's ``motorcycle`` is the platform's
    ``motorbike`` with the same id the simulator model's ``motorbike`` gets, and the boxes agree."""
    path, _ = short_clip
    frames = [f.image for f in read_frames(path, stride=12, long_side=detector.config.imgsz)][:6]
    same_settings = detector.config.model_dump(exclude={"weights"})
    coco = UltralyticsDetector(ModelConfig(weights=str(coco_weights), **same_settings))
    assert set(coco.class_names.values()) == set(PLATFORM_CLASSES)
    assert "motorcycle->motorbike" in coco.description["class_map"]
    for a, b in zip(detector.detect(frames), coco.detect(frames), strict=True):
        assert np.array_equal(a.class_id, b.class_id)
        assert np.allclose(a.xyxy, b.xyxy, atol=0.5)


def test_only_mapped_classes_are_detected(
    short_clip: tuple[Path, ClipTruth], detector: UltralyticsDetector
) -> None:
    path, _ = short_clip
    frames = [f.image for f in read_frames(path, stride=12, long_side=detector.config.imgsz)][:6]
    everyone = detector.detect(frames)
    assert any("person" in {detector.class_names[c] for c in d.class_id} for d in everyone)
    no_people = {name: c for name, c in detector.config.class_map.items() if c != "person"}
    vehicles = UltralyticsDetector(detector.config.model_copy(update={"class_map": no_people}))
    assert "person" not in vehicles.class_names.values()
    found = vehicles.detect(frames)
    assert sum(len(d) for d in found) > 0
    assert all("person" not in {vehicles.class_names[c] for c in d.class_id} for d in found)


def test_a_class_map_must_name_platform_classes_and_match_the_model() -> None:
    with pytest.raises(ValueError, match="not platform classes"):
        ModelConfig(class_map={"motorcycle": "moped"})
    with pytest.raises(ValueError, match="none of the model's classes"):
        ClassMap({0: "cat", 1: "dog"}, ModelConfig().class_map)

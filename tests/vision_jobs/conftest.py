"""Vision fixtures: Ultralytics kept offline with its settings in a temp folder; short rendered clips."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path

import pytest

# Before anything imports ultralytics: no download attempts, no settings file in the home folder.
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="ultralytics-settings-"))

from cityplatform.settings import load_settings
from citysim.cctv import ClipSpec, ClipTruth, Conditions, render_clip
from tests.vision_jobs.coco_model import coco_named_model
from vision_jobs.config import DEFAULT_WEIGHTS, JobConfig
from vision_jobs.detect import UltralyticsDetector
from vision_jobs.registry import CameraRegistry, load_registry


@pytest.fixture(scope="session")
def registry() -> CameraRegistry:
    return load_registry()


@pytest.fixture(scope="session")
def job_config() -> JobConfig:
    return JobConfig()


@pytest.fixture(scope="session")
def detector(job_config: JobConfig) -> UltralyticsDetector:
    return UltralyticsDetector(job_config.model)


@pytest.fixture(scope="session")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ClipTruth]:
    """Eight seconds of daytime cam-01 with a little shake: enough frames for plumbing tests."""
    start = datetime(2025, 5, 12, 8, 15, tzinfo=load_settings().zone)  # the job's zone: JobConfig()
    spec = ClipSpec(
        camera_id="cam-01", start=start, seconds=8, conditions=Conditions(jitter_px=1.5), seed=20_001
    )
    path = tmp_path_factory.mktemp("clips") / f"{spec.clip_name}.mp4"
    return path, render_clip(spec, path)


@pytest.fixture(scope="session")
def coco_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A COCO-named model (80 classes) that finds the simulator's road users; see ``coco_model``."""
    return coco_named_model(tmp_path_factory.mktemp("coco") / "coco-yolov8n.pt", DEFAULT_WEIGHTS)

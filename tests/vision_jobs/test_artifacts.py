"""Run-time inputs: weights and camera registry from settings or S3, each with the sha256 of its bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityplatform.objectstore import GOVERNANCE, ObjectStore
from cityplatform.settings import Settings, load_settings
from cityplatform.yamlfiles import RegistryError
from vision_jobs.artifacts import resolve
from vision_jobs.cli import app
from vision_jobs.config import DEFAULT_WEIGHTS, ModelConfig
from vision_jobs.registry import DEFAULT_REGISTRY

pytestmark = pytest.mark.integration
MODELS = "models"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def uploaded(store: ObjectStore, coco_weights: Path) -> dict[str, str]:
    """A COCO-named model with its own settings file, and a registry with one more camera, in S3."""
    store.ensure_buckets([MODELS, GOVERNANCE])
    store.put_bytes(MODELS, "coco/coco-yolov8n.pt", coco_weights.read_bytes())
    store.put_bytes(MODELS, "coco/coco-yolov8n.yaml", b"imgsz: 320\nagnostic_nms: false\n")
    cameras = DEFAULT_REGISTRY.read_text().replace("camera_id: cam-03", "camera_id: cam-04", 1)
    store.put_bytes(GOVERNANCE, "vision/cameras.yaml", cameras.encode())
    store.put_bytes(GOVERNANCE, "vision/broken.yaml", b"cameras:\n  - camera_id: CAM 9\n")
    return {
        "model": f"s3://{MODELS}/coco/coco-yolov8n.pt",
        "cameras": f"s3://{GOVERNANCE}/vision/cameras.yaml",
        "broken": f"s3://{GOVERNANCE}/vision/broken.yaml",
    }


def test_unset_means_the_package_files(store: ObjectStore, city_settings: Settings) -> None:
    inputs = resolve(store, city_settings)
    assert inputs.weights == str(DEFAULT_WEIGHTS) and inputs.model is not None
    assert inputs.model.sha256 == sha256(DEFAULT_WEIGHTS)
    assert inputs.cameras.sha256 == sha256(DEFAULT_REGISTRY)
    assert set(inputs.registry.cameras) == {"cam-01", "cam-02", "cam-03"}


def test_settings_name_s3_inputs_fetched_once_with_their_hashes_and_model_settings(
    store: ObjectStore,
    city_settings: Settings,
    uploaded: dict[str, str],
    coco_weights: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CITY_VISION_MODEL", uploaded["model"])
    monkeypatch.setenv("CITY_VISION_CAMERAS", uploaded["cameras"])
    settings = load_settings()
    inputs = resolve(store, settings)
    assert inputs.model is not None and inputs.model.sha256 == sha256(coco_weights)
    assert inputs.metadata()["model_uri"] == uploaded["model"]
    assert "cam-04" in inputs.registry.cameras and "cam-03" not in inputs.registry.cameras
    assert (
        inputs.cameras.sha256
        == hashlib.sha256(store.get_bytes(GOVERNANCE, "vision/cameras.yaml")).hexdigest()
    )
    config = ModelConfig(weights=inputs.weights)  # the model's own settings file came with it
    assert (config.imgsz, config.agnostic_nms) == (320, False)
    again = resolve(store, settings)
    assert again.model is not None and again.model.path == inputs.model.path  # cached by etag


def test_explicit_inputs_win_over_settings(
    store: ObjectStore, city_settings: Settings, uploaded: dict[str, str]
) -> None:
    inputs = resolve(store, city_settings, model=uploaded["model"], cameras=str(DEFAULT_REGISTRY))
    assert inputs.metadata()["model_uri"] == uploaded["model"]
    assert inputs.metadata()["cameras_uri"] == str(DEFAULT_REGISTRY)


def test_unusable_inputs_are_named(
    store: ObjectStore, city_settings: Settings, uploaded: dict[str, str]
) -> None:
    with pytest.raises(RegistryError, match=r"s3://governance/vision/broken.yaml: .*camera_id"):
        resolve(store, city_settings, cameras=uploaded["broken"])
    with pytest.raises(FileNotFoundError, match=r"no object at s3://models/nothing\.pt"):
        resolve(store, city_settings, model=f"s3://{MODELS}/nothing.pt")
    with pytest.raises(ValueError, match="not an s3://bucket/key"):
        load_settings(vision_cameras="s3://governance/")


def test_the_cli_refuses_unusable_inputs_in_one_line(
    city_settings: Settings, uploaded: dict[str, str]
) -> None:
    runner = CliRunner()
    clip = "s3://landing/cctv/cam-01/date=2025-05-12/cam-01_20250512T081500.mp4"
    missing = runner.invoke(app, ["run", "--clip", clip, "--weights", "s3://models/nothing.pt"])
    assert missing.exit_code == 2 and "no object at s3://models/nothing.pt" in missing.output
    assert "Traceback" not in missing.output
    broken = runner.invoke(app, ["run", "--clip", clip, "--registry", uploaded["broken"]])
    assert broken.exit_code == 2 and "broken.yaml" in broken.output

"""The whole job with other models and other footage: a COCO-named model on the simulator's street,
and real footage (OpenCV's pedestrian scene) with the shipped model and a COCO-named one."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import polars as pl
import pytest

from cityplatform.layout import ClipName, landing_clip_key
from cityplatform.objectstore import BRONZE, LANDING, ObjectStore
from cityplatform.settings import load_settings
from citysim.cctv import ClipSpec, Conditions, render_clip, upload_clip
from tests.vision_jobs.coco_model import SIMULATOR_AS_COCO, coco_named_model
from vision_jobs.config import DEFAULT_WEIGHTS, PLATFORM_CLASSES, JobConfig, ModelConfig
from vision_jobs.detect import UltralyticsDetector
from vision_jobs.job import ClipReport, run_clip
from vision_jobs.registry import DEFAULT_REGISTRY, CameraRegistry, load_registry
from vision_jobs.sinks import COUNTS_SCHEMA, DETECTIONS_SCHEMA, OCCUPANCY_SCHEMA

pytestmark = pytest.mark.integration
REAL_CLIP = Path(__file__).parents[2].parent / "shared" / "data" / "pedestrians-480x360.avi"
SHIPPED_SETTINGS = {"imgsz": 416, "iou": 0.45, "agnostic_nms": True}  # what the simulator was tuned at

BIKE_LINE = """
      - line_id: bike
        start: [0.64, 0.32]
        end: [0.64, 0.74]
        directions: {eastbound: [1, 0], westbound: [-1, 0]}
        classes: [bicycle]
"""
PEDESTRIAN_CAMERA = """cameras:
  - camera_id: cam-ped
    segment_id: RS001
    district_id: D01
    frame_stride: 8
    lines:
      - line_id: walkway
        start: [0.1, 0.6]
        end: [0.9, 0.6]
        directions: {southbound: [0, 1], northbound: [0, -1]}
        classes: [person, bicycle]
    zones:
      - zone_id: square
        polygon: [[0.0, 0.3], [1.0, 0.3], [1.0, 1.0], [0.0, 1.0]]
"""


def read_table(store: ObjectStore, report: ClipReport, table: str) -> pl.DataFrame:
    (uri,) = [u for u in report.outputs if f"/cctv/{table}/" in u]
    return pl.read_parquet(io.BytesIO(store.get_bytes(BRONZE, uri.split("/", 3)[3])))


def counted(store: ObjectStore, report: ClipReport) -> set[tuple[str, str, str]]:
    counts = read_table(store, report, "counts")
    return {(r["line_id"], r["direction"], r["object_class"]) for r in counts.iter_rows(named=True)}


@pytest.fixture(scope="module")
def bike_registry(tmp_path_factory: pytest.TempPathFactory) -> CameraRegistry:
    """The shipped cameras, cam-01 with a bicycle line over its road line."""
    text = DEFAULT_REGISTRY.read_text()
    road_classes = "        classes: [car, bus, truck, motorbike]\n"
    path = tmp_path_factory.mktemp("registry") / "cameras.yaml"
    path.write_text(text.replace(road_classes, road_classes + BIKE_LINE.lstrip("\n"), 1))
    return load_registry(path)


@pytest.fixture(scope="module")
def street_with_a_motorbike(store: ObjectStore, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Eight seconds of cam-01 in which the simulator sends a motorbike westbound over the road line."""
    start = datetime(2025, 5, 14, 9, 0, tzinfo=load_settings().zone)
    spec = ClipSpec(camera_id="cam-01", start=start, seconds=8, conditions=Conditions(jitter_px=1.5), seed=5)
    path = tmp_path_factory.mktemp("street") / f"{spec.clip_name}.mp4"
    truth = render_clip(spec, path)
    assert truth.counts()[("road", "westbound", "motorbike")] == 1
    return upload_clip(store, path, truth).uri


@pytest.mark.parametrize(
    ("motorbike_as", "expected", "absent"),
    [
        ("motorcycle", ("road", "westbound", "motorbike"), "bicycle"),
        ("bicycle", ("bike", "westbound", "bicycle"), "motorbike"),
    ],
)
def test_a_coco_model_counts_motorcycles_and_bicycles_on_their_lines(
    store: ObjectStore,
    bike_registry: CameraRegistry,
    street_with_a_motorbike: str,
    tmp_path: Path,
    motorbike_as: str,
    expected: tuple[str, str, str],
    absent: str,
) -> None:
    """The simulator's motorbike, seen by a COCO-named model as a ``motorcycle`` or as a ``bicycle``,
    is counted as the platform's class of that name on the line configured for it, and only there."""
    weights = coco_named_model(
        tmp_path / "coco.pt", DEFAULT_WEIGHTS, {**SIMULATOR_AS_COCO, "motorbike": motorbike_as}
    )
    config = JobConfig(model=ModelConfig(weights=str(weights), device="cpu", **SHIPPED_SETTINGS))
    report = run_clip(
        store, street_with_a_motorbike, bike_registry, UltralyticsDetector(config.model), config
    )
    assert report.ok, report.detail
    found = counted(store, report)
    assert expected in found
    assert not [c for c in found if c[2] == absent]
    assert set(read_table(store, report, "detections")["class"]) <= set(PLATFORM_CLASSES)


@pytest.fixture(scope="module")
def real_clip_uri(store: ObjectStore) -> str:
    if not REAL_CLIP.is_file():
        pytest.skip(f"{REAL_CLIP} is absent (it ships with CI's shared data, see its README)")
    name = ClipName("cam-ped", datetime(2025, 6, 2, 14, 30, tzinfo=load_settings().zone))
    key = landing_clip_key(name, ".avi")
    store.put_bytes(LANDING, key, REAL_CLIP.read_bytes())
    return f"s3://{LANDING}/{key}"


@pytest.fixture(scope="module")
def pedestrian_registry(tmp_path_factory: pytest.TempPathFactory) -> CameraRegistry:
    path = tmp_path_factory.mktemp("registry") / "cameras.yaml"
    path.write_text(PEDESTRIAN_CAMERA)
    return load_registry(path)


def fine_detail(image: np.ndarray) -> float:
    """The 75th percentile of the absolute Laplacian: how sharp most of the frame is. A percentile, as
    the outlines of detected objects are sharp on purpose but cover few pixels."""
    laplacian = cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F)
    return float(np.percentile(np.abs(laplacian), 75))


@pytest.mark.slow  # 795 frames of real footage decoded twice, over a minute on 2 busy cores
@pytest.mark.parametrize("model", ["shipped", "coco"])
def test_real_footage_end_to_end(
    store: ObjectStore,
    real_clip_uri: str,
    pedestrian_registry: CameraRegistry,
    coco_weights: Path,
    model: str,
) -> None:
    """Decode, detect, track, write and keep an anonymised frame of real footage; no counts asserted
    (there is no ground truth for this scene)."""
    weights = DEFAULT_WEIGHTS if model == "shipped" else coco_weights
    # 416 px for both, so that the COCO model's 640 px default does not triple the test's time
    config = JobConfig(model=ModelConfig(weights=str(weights), device="cpu", imgsz=416))
    report = run_clip(store, real_clip_uri, pedestrian_registry, UltralyticsDetector(config.model), config)
    assert report.ok, f"{report.reason}: {report.detail}"
    assert report.frames_analysed >= 99  # 795 frames, every 8th
    for table, schema in (
        ("detections", DETECTIONS_SCHEMA),
        ("counts", COUNTS_SCHEMA),
        ("occupancy", OCCUPANCY_SCHEMA),
    ):
        assert read_table(store, report, table).schema == pl.Schema(schema)
    detections = read_table(store, report, "detections")
    assert set(detections["class"]) <= set(PLATFORM_CLASSES)
    assert detections["ts"].is_sorted()
    (evidence,) = [u for u in report.outputs if u.endswith(".jpg")]
    kept = cv2.imdecode(
        np.frombuffer(store.get_bytes(BRONZE, evidence.split("/", 3)[3]), np.uint8), cv2.IMREAD_COLOR
    )
    capture = cv2.VideoCapture(str(REAL_CLIP))
    capture.set(cv2.CAP_PROP_POS_FRAMES, int(evidence.rsplit("frame-", 1)[1].removesuffix(".jpg")))
    ok, raw = capture.read()
    capture.release()
    assert ok and kept.shape == raw.shape
    assert fine_detail(kept) < fine_detail(raw) / 3  # pixelated whole, whatever was detected

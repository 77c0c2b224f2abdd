"""Many clips in one run: the same per-clip outputs as one run per clip, replaced on a re-run, and a
bad clip quarantined without failing the others; frames of several clips share predict calls."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime

import numpy as np
import pytest

from cityplatform.objectstore import BRONZE, LANDING, QUARANTINE, ObjectStore
from cityplatform.settings import load_settings
from citysim.cctv import ClipSpec, render_clip, upload_clip
from vision_jobs.config import JobConfig
from vision_jobs.detect import UltralyticsDetector
from vision_jobs.detections import Detections
from vision_jobs.job import ClipReport, run_batch, run_clip
from vision_jobs.registry import CameraRegistry

pytestmark = pytest.mark.integration
DAY = "date=2025-06-02"
CORRUPT = f"s3://{LANDING}/cctv/cam-02/{DAY}/cam-02_20250602T093000.mp4"


class CountingDetector:
    """The real detector, counting the predict calls and frames it is asked for."""

    def __init__(self, inner: UltralyticsDetector) -> None:
        self.inner = inner
        self.calls: list[int] = []

    @property
    def class_names(self) -> dict[int, str]:
        return self.inner.class_names

    @property
    def description(self) -> dict[str, str]:
        return self.inner.description

    def detect(self, frames: Sequence[np.ndarray]) -> list[Detections]:
        self.calls.append(len(frames))
        return self.inner.detect(frames)


@pytest.fixture(scope="module")
def config() -> JobConfig:
    return JobConfig(decode_workers=3, evidence_frames=2)


@pytest.fixture(scope="module")
def clip_uris(store: ObjectStore, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Three short clips of two cameras (same frame size, so they batch together) and a corrupt one."""
    folder = tmp_path_factory.mktemp("scale")
    uris = []
    for camera, minute, seed in (("cam-01", 0, 5), ("cam-02", 15, 6), ("cam-01", 30, 7)):
        start = datetime(2025, 6, 2, 9, minute, tzinfo=load_settings().zone)
        spec = ClipSpec(camera_id=camera, start=start, seconds=3, warmup_s=8, seed=seed)
        path = folder / f"{spec.clip_name}.mp4"
        uris.append(upload_clip(store, path, render_clip(spec, path)).uri)
    store.put_bytes(LANDING, CORRUPT.split("/", 3)[3], b"\x00\x00\x00\x18ftypmp42 not a video" * 50)
    return uris


def any_generation(key: str) -> str:
    """A key with its run's generation blanked: each run writes (and publishes) a generation of its own."""
    return re.sub(r"gen=[^/.]+", "gen=*", key)


def outputs(store: ObjectStore, report: ClipReport) -> dict[str, bytes]:
    """What a clip wrote, object by object; parquet and JPEG are deterministic for equal content."""
    return {any_generation(uri): store.get_bytes(BRONZE, uri.split("/", 3)[3]) for uri in report.outputs}


def clip_objects(store: ObjectStore, clip: str) -> list[str]:
    return sorted(any_generation(o.key) for o in store.list_objects(BRONZE, "cctv/") if clip in o.key)


@pytest.fixture(scope="module")
def single_runs(
    store: ObjectStore,
    clip_uris: list[str],
    registry: CameraRegistry,
    detector: UltralyticsDetector,
    config: JobConfig,
) -> dict[str, dict[str, bytes]]:
    """One run per clip, as the platform did before: each clip's objects, read back."""
    reports = [run_clip(store, uri, registry, detector, config) for uri in clip_uris]
    assert all(r.ok for r in reports), reports
    return {r.uri: outputs(store, r) for r in reports}


def test_batch_run_writes_exactly_the_single_runs_outputs_and_replaces_them(
    store: ObjectStore,
    clip_uris: list[str],
    single_runs: dict[str, dict[str, bytes]],
    registry: CameraRegistry,
    detector: UltralyticsDetector,
    config: JobConfig,
) -> None:
    before = {uri: clip_objects(store, uri.rsplit("/", 1)[1].split(".")[0]) for uri in clip_uris}
    counting = CountingDetector(detector)
    reports = run_batch(store, [clip_uris[0], CORRUPT, *clip_uris[1:]], registry, counting, config)
    assert [r.uri for r in reports] == [clip_uris[0], CORRUPT, *clip_uris[1:]]
    assert (reports[1].status, reports[1].reason) == ("quarantined", "corrupt")
    assert store.stat(QUARANTINE, f"cctv/cam-02/{DAY}/cam-02_20250602T093000.mp4.reason.json")
    done = [r for r in reports if r.ok]
    assert len(done) == 3
    for report in done:
        assert outputs(store, report) == single_runs[report.uri]
        clip = report.uri.rsplit("/", 1)[1].split(".")[0]
        assert clip_objects(store, clip) == before[report.uri]  # replaced, nothing added beside
    # frames of the three clips went through shared, full predict calls
    frames = sum(r.frames_analysed for r in done)
    assert set(counting.calls) == {config.model.batch_size}
    assert len(counting.calls) == math.ceil(frames / config.model.batch_size)


def test_a_batch_of_one_bad_clip_writes_nothing_but_its_quarantine(
    store: ObjectStore, registry: CameraRegistry, detector: UltralyticsDetector, config: JobConfig
) -> None:
    missing = f"s3://{LANDING}/cctv/cam-01/{DAY}/cam-01_20250602T235900.mp4"
    (report,) = run_batch(store, [missing], registry, detector, config)
    assert (report.status, report.reason) == ("quarantined", "missing")
    assert clip_objects(store, "cam-01_20250602T235900") == []

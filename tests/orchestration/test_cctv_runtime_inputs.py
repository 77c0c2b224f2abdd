"""Weights and camera registry chosen in a run's configuration reach the Pipes process, and the run
records both with their sha256: in the assets' metadata and as versioned inputs in lineage."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from cityplatform.objectstore import GOVERNANCE, ObjectStore
from cityplatform.settings import load_settings
from citysim.cctv import ClipSpec, render_clip, upload_clip
from orchestration.defs.cctv.partitions import clip_partitions
from tests.lineage_spec import event_errors
from vision_jobs.config import DEFAULT_WEIGHTS
from vision_jobs.registry import DEFAULT_REGISTRY

pytestmark = [pytest.mark.integration, pytest.mark.own_s3, pytest.mark.slow]

MODEL = "s3://models/citysim/v2.pt"
CAMERAS = f"s3://{GOVERNANCE}/vision/cameras.yaml"


@pytest.fixture(scope="module")
def env(city_env: Path) -> Iterator[None]:
    """The Pipes child inherits these: no downloads, Ultralytics settings kept out of $HOME."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("YOLO_OFFLINE", "1")
        patch.setenv("YOLO_CONFIG_DIR", os.environ.get("YOLO_CONFIG_DIR", tempfile.mkdtemp()))
        yield


@pytest.fixture(scope="module")
def run(
    env: None,
    store: ObjectStore,
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    tmp_path_factory: pytest.TempPathFactory,
) -> dg.ExecuteInProcessResult:
    store.ensure_buckets(["models", GOVERNANCE])
    store.put_bytes("models", "citysim/v2.pt", DEFAULT_WEIGHTS.read_bytes())
    store.put_bytes("models", "citysim/v2.yaml", DEFAULT_WEIGHTS.with_suffix(".yaml").read_bytes())
    store.put_bytes(GOVERNANCE, "vision/cameras.yaml", DEFAULT_REGISTRY.read_bytes() + b"# edited\n")
    spec = ClipSpec(
        camera_id="cam-01", start=datetime(2026, 3, 17, 9, 0, tzinfo=load_settings().zone), seconds=3
    )
    path = tmp_path_factory.mktemp("clips") / f"{spec.clip_name}.mp4"
    upload_clip(store, path, render_clip(spec, path))
    instance.add_dynamic_partitions(clip_partitions.name, [spec.clip_name])
    job = definitions.resolve_job_def("cctv_analyse_clip")
    config = {"resources": {"vision": {"config": {"model": MODEL, "cameras": CAMERAS}}}}
    return job.execute_in_process(instance=instance, partition_key=spec.clip_name, run_config=config)


def test_the_run_records_the_inputs_it_was_given_with_their_hashes(
    run: dg.ExecuteInProcessResult, store: ObjectStore
) -> None:
    assert run.success
    events = [e.step_materialization_data.materialization for e in run.get_asset_materialization_events()]
    counts = next(m for m in events if m.asset_key.to_user_string() == "cctv/derived/counts").metadata
    assert counts["model_uri"].value == MODEL
    assert counts["model_sha256"].value == hashlib.sha256(DEFAULT_WEIGHTS.read_bytes()).hexdigest()
    assert counts["cameras_uri"].value == CAMERAS
    edited = store.get_bytes(GOVERNANCE, "vision/cameras.yaml")
    assert counts["cameras_sha256"].value == hashlib.sha256(edited).hexdigest()


def test_lineage_names_weights_and_registry_as_versioned_inputs(run: dg.ExecuteInProcessResult) -> None:
    events: list[dict[str, Any]] = [
        json.loads(line)
        for path in sorted(load_settings().lineage_dir.glob("events-*.jsonl"))
        for line in path.read_text().splitlines()
    ]
    (complete,) = [
        e for e in events if e["job"]["name"] == "cctv/derived/detections" and e["eventType"] == "COMPLETE"
    ]
    assert event_errors(complete) == []
    versions = {
        (i["namespace"], i["name"]): i.get("facets", {}).get("version", {}).get("datasetVersion")
        for i in complete["inputs"]
    }
    assert (
        versions[("s3://models", "citysim/v2.pt")] == hashlib.sha256(DEFAULT_WEIGHTS.read_bytes()).hexdigest()
    )
    assert versions[("s3://governance", "vision/cameras.yaml")] is not None
    tags = complete["outputs"][0]["facets"]["tags"]["tags"]
    assert {t["field"] for t in tags if t["key"] == "pii" and "field" in t} >= {"track_id", "x1", "ts"}

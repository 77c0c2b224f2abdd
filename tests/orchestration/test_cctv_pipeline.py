"""CCTV end to end: rendered clips in real S3 -> sensor -> clip partitions -> one Pipes run of the
real model over the batch.

A corrupt clip delivered beside a good one is quarantined with its reason; the good one is written,
materialised and checked, and the run fails naming the bad one. The module has an S3 server of its
own: the sensor lists landing from the start on its first tick, so it sees only these clips.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from cityplatform.objectstore import LANDING, QUARANTINE, ObjectStore, parse_s3_uri, read_parquet
from cityplatform.settings import load_settings
from citysim.cctv import ClipSpec, ClipTruth, render_clip, upload_clip
from orchestration.defs.cctv.partitions import clip_partitions
from tests.orchestration.sensors import tick_sensor

pytestmark = [pytest.mark.integration, pytest.mark.own_s3]

GOOD = "cam-01_20260316T101500"
CORRUPT = "cam-02_20260316T101500"
BATCH = {ASSET_PARTITION_RANGE_START_TAG: GOOD, ASSET_PARTITION_RANGE_END_TAG: CORRUPT}


@pytest.fixture(scope="module")
def env(city_env: Path) -> Iterator[None]:
    """The Pipes child inherits these: no downloads, Ultralytics settings kept out of $HOME."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("YOLO_OFFLINE", "1")
        patch.setenv("YOLO_CONFIG_DIR", os.environ.get("YOLO_CONFIG_DIR", tempfile.mkdtemp()))
        yield


@pytest.fixture(scope="module")
def landed(store: ObjectStore, env: None, tmp_path_factory: pytest.TempPathFactory) -> ClipTruth:
    spec = ClipSpec(
        camera_id="cam-01",
        start=datetime(2026, 3, 16, 10, 15, tzinfo=load_settings().zone),
        seconds=6,
        seed=31_337,
    )
    path = tmp_path_factory.mktemp("clips") / f"{spec.clip_name}.mp4"
    truth = render_clip(spec, path)
    upload_clip(store, path, truth)
    store.put_bytes(
        LANDING, f"cctv/cam-02/date=2026-03-16/{CORRUPT}.mp4", b"\x00\x00\x00\x18ftypmp42 truncated"
    )
    return truth


@pytest.fixture(scope="module")
def sensor_result(
    landed: ClipTruth, definitions: dg.Definitions, instance: dg.DagsterInstance
) -> dg.SensorResult:
    result = tick(definitions, instance, None)
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(clip_partitions.name, list(request.partition_keys))
    return result


def tick(definitions: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    return tick_sensor(definitions, instance, "cctv_landing_sensor", cursor)


def test_sensor_adds_new_clips_as_partitions_analysed_in_one_run(
    sensor_result: dg.SensorResult, definitions: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    (request,) = sensor_result.run_requests
    assert request.partition_key is None and {k: request.tags[k] for k in BATCH} == BATCH
    # in key order, so that the range of the run is exactly the new clips
    assert instance.get_dynamic_partitions(clip_partitions.name)[-2:] == [GOOD, CORRUPT]
    assert tick(definitions, instance, sensor_result.cursor).run_requests == []  # truth files, seen clips


def test_sensor_lists_only_recent_date_prefixes_and_runs_a_redelivered_clip_alone(
    sensor_result: dg.SensorResult,
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    store: ObjectStore,
) -> None:
    today = datetime.now(load_settings().zone)
    recent = f"cam-02_{today:%Y%m%d}T000000"
    data = b"\x00\x00\x00\x18ftypmp42 not analysed here"
    store.put_bytes(LANDING, f"cctv/cam-02/date={today:%Y-%m-%d}/{recent}.mp4", data)
    # a re-delivery of a known clip, under a date long before the late-days horizon: not listed
    store.put_bytes(LANDING, f"cctv/cam-02/date=2026-03-16/{CORRUPT}.mp4", data)
    (request,) = tick(definitions, instance, sensor_result.cursor).run_requests
    assert request.partition_key == recent
    first = tick(definitions, instance, None)  # a sensor without a cursor lists everything
    keys = {r.partition_key or r.tags[ASSET_PARTITION_RANGE_START_TAG] for r in first.run_requests}
    assert keys == {GOOD, CORRUPT, recent}
    redelivered = next(r for r in first.run_requests if r.partition_key == CORRUPT)
    obj = next(store.list_objects(LANDING, f"cctv/cam-02/date=2026-03-16/{CORRUPT}."))
    assert redelivered.run_key == f"{obj.key}@{obj.etag}"


@pytest.mark.slow  # the model on a clip through Pipes: the demo test runs two in the default run
def test_batch_run_writes_the_good_clip_and_fails_naming_the_quarantined_one(
    sensor_result: dg.SensorResult,
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    store: ObjectStore,
    landed: ClipTruth,
) -> None:
    job = definitions.resolve_job_def("cctv_analyse_clip")
    result = job.execute_in_process(instance=instance, tags=BATCH, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "1 of 2 clips quarantined" in failure.step_failure_data.error.message
    assert CORRUPT in failure.step_failure_data.error.message
    checks = {
        (e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()
    }
    assert checks[("cctv/derived/counts", "contract")]
    assert checks[("cctv/derived/coverage", "contract")]
    assert checks[("cctv/derived/detections", "contract")]
    assert checks[("cctv/derived/detections", "camera_sees_traffic")]
    events = [e.step_materialization_data.materialization for e in result.get_asset_materialization_events()]
    materialized = {m.asset_key.to_user_string(): m for m in events}
    assert set(materialized) == {
        "cctv/raw/clips",
        "cctv/derived/detections",
        "cctv/derived/counts",
        "cctv/derived/coverage",
        "cctv/derived/zone_occupancy",
    }
    counts_meta = materialized["cctv/derived/counts"].metadata
    for name in ("frames_read", "frames_per_second", "device", "batch_size", "model", "weights_sha256"):
        assert name in counts_meta, name
    assert counts_meta["clips"].value == 1
    (path,) = counts_meta["paths"].value
    counts = read_parquet(store, *parse_s3_uri(path))
    assert counts["crossings"].sum() == counts_meta["crossings_total"].value
    assert counts["crossings"].sum() > 0
    day = "cctv/cam-02/date=2026-03-16/"
    records = [o.key for o in store.list_objects(QUARANTINE, day) if o.key.endswith(".reason.json")]
    assert records == [f"{day}{CORRUPT}.mp4.reason.json"]


def test_corrupt_clip_alone_is_quarantined_and_fails_its_run(
    sensor_result: dg.SensorResult,
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    store: ObjectStore,
) -> None:
    job = definitions.resolve_job_def("cctv_analyse_clip")
    result = job.execute_in_process(instance=instance, partition_key=CORRUPT, raise_on_error=False)
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "quarantined" in failure.step_failure_data.error.message
    day = "cctv/cam-02/date=2026-03-16/"
    records = [o.key for o in store.list_objects(QUARANTINE, day) if o.key.endswith(".reason.json")]
    assert records == [f"{day}{CORRUPT}.mp4.reason.json"]

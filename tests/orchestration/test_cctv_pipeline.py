"""CCTV end to end: a rendered clip in real S3 -> sensor -> clip partition -> Pipes run of the real model.

A corrupt clip delivered beside it is quarantined with its reason and fails only its own run. The
module has an S3 server of its own: the sensor lists every clip in landing, so it sees only these two.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import dagster as dg
import pytest

from cityplatform.objectstore import LANDING, QUARANTINE, ObjectStore, parse_s3_uri, read_parquet
from cityplatform.settings import load_settings
from citysim.cctv import ClipSpec, ClipTruth, render_clip, upload_clip
from orchestration.defs.cctv.partitions import clip_partitions
from orchestration.lib.resources import CityStorage

pytestmark = [pytest.mark.integration, pytest.mark.own_s3]

GOOD = "cam-01_20260316T101500"
CORRUPT = "cam-02_20260316T101500"


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
    sensor = definitions.resolve_sensor_def("cctv_landing_sensor")
    with dg.build_sensor_context(instance=instance, resources={"storage": CityStorage()}) as context:
        result = sensor(context)
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(clip_partitions.name, list(request.partition_keys))
    return result


def test_sensor_adds_each_clip_as_a_partition_with_a_key_and_etag_run_key(
    sensor_result: dg.SensorResult,
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    store: ObjectStore,
) -> None:
    assert sorted(r.partition_key for r in sensor_result.run_requests) == [GOOD, CORRUPT]
    good = next(r for r in sensor_result.run_requests if r.partition_key == GOOD)
    obj = next(store.list_objects(LANDING, f"cctv/cam-01/date=2026-03-16/{GOOD}."))
    assert good.run_key == f"{obj.key}@{obj.etag}"
    assert set(instance.get_dynamic_partitions(clip_partitions.name)) >= {GOOD, CORRUPT}
    sensor = definitions.resolve_sensor_def("cctv_landing_sensor")
    with dg.build_sensor_context(
        instance=instance, cursor=sensor_result.cursor, resources={"storage": CityStorage()}
    ) as context:
        assert sensor(context).run_requests == []  # truth files and seen clips are not clips to run


@pytest.mark.slow  # the model on a clip through Pipes: the demo test runs two in the default run
def test_clip_run_writes_counts_that_pass_their_contracts(
    sensor_result: dg.SensorResult,
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    store: ObjectStore,
    landed: ClipTruth,
) -> None:
    job = definitions.resolve_job_def("cctv_analyse_clip")
    result = job.execute_in_process(instance=instance, partition_key=GOOD)
    assert result.success
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
    bucket, key = parse_s3_uri(str(counts_meta["path"].value))
    counts = read_parquet(store, bucket, key)
    assert counts["crossings"].sum() == counts_meta["crossings_total"].value
    assert counts["crossings"].sum() > 0


def test_corrupt_clip_is_quarantined_and_fails_only_its_own_run(
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

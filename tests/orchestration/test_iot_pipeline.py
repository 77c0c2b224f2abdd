"""IoT ingestion end to end: simulator -> real S3 -> real Dagster runs -> bronze and quarantine.

The simulator's ground truth says exactly which lines it broke and why, so the quarantine must
match it line for line, and bronze must hold every other line once, however often we re-run.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from cityplatform.layout import (
    REGISTRY_TABLES,
    bronze_registry_key,
    landing_iot_prefix,
)
from cityplatform.objectstore import (
    BRONZE,
    LANDING,
    ObjectStore,
    parquet_record_key,
    parse_s3_uri,
    read_parquet,
)
from cityplatform.sensor_kinds import SENSOR_KINDS
from cityplatform.settings import load_settings
from citysim import DayTruth, build_city, write_iot_day
from ingestion.landing import LandingManifest
from orchestration.defs.iot.assets import BRONZE_READINGS, QUARANTINE_READINGS, RAW_READINGS
from tests.conftest import published
from tests.orchestration.sensors import tick_sensor

pytestmark = pytest.mark.integration

DAY = date(2026, 3, 14)


@pytest.fixture(scope="module")
def truth(store: ObjectStore, city_env: Path) -> DayTruth:
    city = build_city(seed=7, sensors=40)
    return write_iot_day(store, city, DAY, tz=load_settings().zone, seed=7, fault_rate=0.03)


def run(
    definitions: dg.Definitions, instance: dg.DagsterInstance, job: str, partition: str | None = None
) -> dg.ExecuteInProcessResult:
    result = definitions.resolve_job_def(job).execute_in_process(instance=instance, partition_key=partition)
    assert result.success
    failed = [e.check_name for e in result.get_asset_check_evaluations() if not e.passed]
    assert failed == []
    return result


@pytest.fixture(scope="module")
def first_run(
    definitions: dg.Definitions, instance: dg.DagsterInstance, truth: DayTruth
) -> dg.ExecuteInProcessResult:
    run(definitions, instance, "iot_registry")
    return run(definitions, instance, "iot_ingest_day", DAY.isoformat())


def bronze_counts(store: ObjectStore) -> dict[str, int]:
    return {kind: published(store, DAY).read_bronze(store, kind).height for kind in SENSOR_KINDS}


def quarantine(store: ObjectStore) -> pl.DataFrame:
    return published(store, DAY).read_quarantine(store)


def test_bronze_holds_exactly_the_valid_lines(
    store: ObjectStore, truth: DayTruth, first_run: dg.ExecuteInProcessResult
) -> None:
    assert bronze_counts(store) == truth.expected_accepted


def test_quarantine_matches_the_injected_faults_line_for_line(
    store: ObjectStore, truth: DayTruth, first_run: dg.ExecuteInProcessResult
) -> None:
    got = set(quarantine(store).select("source_file", "line_no", "reason").iter_rows())
    expected = {(f.key, f.line, f.reason.value) for f in truth.faults}
    assert got == expected
    assert quarantine(store)["detail"].null_count() == 0


def test_metadata_reconciles_lines_in_with_accepted_plus_quarantined(
    truth: DayTruth, first_run: dg.ExecuteInProcessResult
) -> None:
    bronze = next(
        e.step_materialization_data.materialization
        for e in first_run.get_asset_materialization_events()
        if e.step_materialization_data.materialization.asset_key.to_user_string() == "iot/bronze/readings"
    )
    meta = {k: getattr(v, "value", v) for k, v in bronze.metadata.items()}
    assert meta["rows_in"] == sum(truth.lines_written.values())
    assert meta["rows_in"] == meta["rows_accepted"] + meta["rows_quarantined"]
    assert meta["quarantined_by_reason"] == {r.value: n for r, n in sorted(truth.fault_counts().items())}
    assert meta["reconciles"] is True


def test_each_file_written_is_recorded_in_the_run_and_beside_it(
    store: ObjectStore, truth: DayTruth, first_run: dg.ExecuteInProcessResult
) -> None:
    files = {}
    for event in first_run.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization.asset_key in (BRONZE_READINGS, QUARANTINE_READINGS):
            files |= materialization.metadata["files"].value  # type: ignore[attr-defined]  # JSON metadata
    assert set(files) == {*SENSOR_KINDS, "quarantine"}
    assert {kind: files[kind]["rows"] for kind in SENSOR_KINDS} == truth.expected_accepted
    for record in files.values():
        bucket, key = parse_s3_uri(record["uri"])
        assert json.loads(store.get_bytes(bucket, parquet_record_key(key))) == record
        assert hashlib.sha256(store.get_bytes(bucket, key)).hexdigest() == record["sha256"]


def test_rerunning_the_partition_replaces_instead_of_appending(
    store: ObjectStore,
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    first_run: dg.ExecuteInProcessResult,
    truth: DayTruth,
) -> None:
    before = published(store, DAY).read_bronze(store, "traffic")
    run(definitions, instance, "iot_ingest_day", DAY.isoformat())
    after = published(store, DAY).read_bronze(store, "traffic")
    assert after.equals(before)
    assert bronze_counts(store) == truth.expected_accepted
    assert quarantine(store).height == len(truth.faults)


def test_sensor_requests_one_run_per_landing_state_and_never_twice_for_a_redelivery(
    store: ObjectStore,
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    first_run: dg.ExecuteInProcessResult,
) -> None:

    def tick(cursor: str | None) -> dg.SensorResult:
        return tick_sensor(definitions, instance, "iot_landing_sensor", cursor)

    first = tick(None)
    day_requests = [r for r in first.run_requests if r.partition_key == DAY.isoformat()]
    assert len(day_requests) == 1
    assert tick(first.cursor).run_requests == []  # nothing new

    # The same object delivered again: same key, same etag -> the same run key (Dagster skips it).
    # A midday object: one of the first hour would request the day before too (late readings).
    some = next(o for o in store.list_objects(LANDING, landing_iot_prefix("noise", DAY)) if "T12" in o.key)
    store.put_bytes(LANDING, some.key, store.get_bytes(LANDING, some.key))
    redelivered = tick(first.cursor)
    assert [r.run_key for r in redelivered.run_requests] == [day_requests[0].run_key]

    # A changed object is a new landing state -> a new run key.
    store.put_bytes(LANDING, some.key, store.get_bytes(LANDING, some.key) + b"\n")
    changed = tick(redelivered.cursor)
    assert len(changed.run_requests) == 1
    assert changed.run_requests[0].run_key != day_requests[0].run_key


def test_registry_is_loaded_with_every_table(
    store: ObjectStore, first_run: dg.ExecuteInProcessResult
) -> None:
    for table in REGISTRY_TABLES:
        assert read_parquet(store, BRONZE, bronze_registry_key(table)).height > 0, table


def test_bronze_launched_alone_for_a_day_never_snapshotted_takes_the_snapshot_itself(
    store: ObjectStore,
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    first_run: dg.ExecuteInProcessResult,
) -> None:
    """What the asset page's Materialize launches for iot/bronze/readings: that asset (and the
    quarantine, made in the same step) for one day, without iot/raw/readings."""
    day = date(2026, 3, 12)
    truth = write_iot_day(store, build_city(seed=7, sensors=40), day, tz=load_settings().zone, seed=8)
    assert LandingManifest.load(store, day) is None
    result = definitions.resolve_job_def("iot_ingest_day").execute_in_process(
        instance=instance,
        partition_key=day.isoformat(),
        asset_selection=[BRONZE_READINGS, QUARANTINE_READINGS],
    )
    assert result.success
    manifest = LandingManifest.load(store, day)
    assert manifest is not None and manifest.object_count > 0
    recorded = {e.asset_key: e.partition for e in result.get_asset_materialization_events()}
    assert recorded == {
        RAW_READINGS: day.isoformat(),
        BRONZE_READINGS: day.isoformat(),
        QUARANTINE_READINGS: day.isoformat(),
    }
    raw = instance.get_latest_materialization_event(RAW_READINGS)
    assert raw is not None and raw.asset_materialization.metadata["fingerprint"].value == manifest.fingerprint
    counts = {kind: published(store, day).read_bronze(store, kind).height for kind in SENSOR_KINDS}
    assert counts == truth.expected_accepted

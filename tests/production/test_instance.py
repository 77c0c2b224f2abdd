"""The platform as a city runs it: the instance of infra/dagster/dagster.yaml on PostgreSQL, a gRPC
code server and the Dagster daemon (``conftest.platform``). Runs wait in the queue, leave it by
their pools, and run out of process with the multiprocess executor; the landing sensor and a
seven-day backfill are carried out by the daemon. A small simulated city keeps it within CI's time.

Order of events (queued before, dequeued after: the daemon's dequeue reports RUN_STARTING) is read from
the event log's storage ids, which PostgreSQL hands out in order: no clock is compared.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from cityplatform.layout import bronze_readings_key, mart_export_key, quarantine_readings_key
from cityplatform.objectstore import BRONZE, LANDING, QUARANTINE, ObjectStore, read_parquet
from cityplatform.sensor_kinds import SENSOR_KINDS
from cityplatform.settings import load_settings
from citysim import City, DayTruth, build_city, write_iot_day
from citysim.landing import registry_objects
from governance.registry.departments import load_departments
from orchestration.defs.marts.assets import MARTS_BY_DEPARTMENT
from tests.production.conftest import POOL_LIMITS
from tests.production.topology import Platform

pytestmark = [pytest.mark.production, pytest.mark.integration, pytest.mark.own_s3]

SEED = 5
SENSORS = 10  # two of most kinds: every mart has rows, ingestion stays seconds per day
FAULT_RATE = 0.02
SENSOR_DAY = date(2026, 11, 2)
BACKFILL_DAYS = tuple(date(2026, 11, 10) + timedelta(days=n) for n in range(7))
LOCK_ERROR = "Could not set lock"
EventIds = dict[dg.DagsterEventType, int]


@pytest.fixture(scope="module")
def first_day() -> date:
    return SENSOR_DAY


@pytest.fixture(scope="module")
def city() -> City:
    return build_city(seed=SEED, sensors=SENSORS)


@pytest.fixture(scope="module")
def registry(platform: Platform, store: ObjectStore, city: City) -> None:
    """The sensor registry landed and loaded into bronze by a queued run: ingestion validates against it."""
    for key, data in registry_objects(city).items():
        store.put_bytes(LANDING, key, data, content_type="text/csv")
    platform.finished(platform.submit("iot_registry"))


@pytest.fixture(scope="module")
def sensor_ingestion(
    platform: Platform, store: ObjectStore, city: City, registry: None
) -> tuple[DayTruth, dg.DagsterRun]:
    """A day lands while the landing sensor is on; the run it requests, once finished."""
    platform.start_sensor("iot_landing_sensor")
    try:
        truth = write_iot_day(
            store, city, SENSOR_DAY, tz=load_settings().zone, seed=SEED, fault_rate=FAULT_RATE
        )
        requested = dg.RunsFilter(
            tags={"dagster/sensor_name": "iot_landing_sensor", "dagster/partition": SENSOR_DAY.isoformat()}
        )
        platform.wait_for(
            "the sensor requests a run", lambda: bool(platform.instance.get_runs(requested)), 300
        )
    finally:
        platform.stop_sensor("iot_landing_sensor")  # the backfill's days are the backfill's alone
    (run,) = platform.instance.get_runs(requested)
    return truth, platform.finished(run.run_id)


@pytest.fixture(scope="module")
def marts_runs(platform: Platform, sensor_ingestion: tuple[DayTruth, dg.DagsterRun]) -> list[dg.DagsterRun]:
    """Two runs of the day's marts, submitted one right after the other, once finished."""
    submitted = [platform.submit("marts_build_day", SENSOR_DAY.isoformat()) for _ in range(2)]
    return [platform.finished(run_id) for run_id in submitted]


def event_ids(platform: Platform, run_id: str) -> EventIds:
    """Event type -> storage id of its last event in the run."""
    return {
        record.event_log_entry.dagster_event_type: record.storage_id  # type: ignore[misc]
        for record in platform.instance.get_records_for_run(run_id).records
        if record.event_log_entry.is_dagster_event
    }


def assert_queued_and_run_by_workers(platform: Platform, run_id: str) -> None:
    """The run went through the queue (the daemon's dequeue reports RUN_STARTING), and its steps ran
    in processes of their own (the multiprocess executor) under the run worker that the default run
    launcher started."""
    events = event_ids(platform, run_id)
    order = (
        dg.DagsterEventType.RUN_ENQUEUED,
        dg.DagsterEventType.RUN_STARTING,
        dg.DagsterEventType.RUN_START,
    )
    assert set(order) <= set(events), events
    enqueued, dequeued, started = (events[kind] for kind in order)
    assert enqueued < dequeued < started
    assert dg.DagsterEventType.STEP_WORKER_STARTED in events


def bronze_counts(store: ObjectStore, day: date) -> dict[str, int]:
    return {kind: read_parquet(store, BRONZE, bronze_readings_key(kind, day)).height for kind in SENSOR_KINDS}


def assert_reconciles(store: ObjectStore, day: date, truth: DayTruth) -> None:
    assert bronze_counts(store, day) == truth.expected_accepted, day
    assert read_parquet(store, QUARANTINE, quarantine_readings_key(day)).height == len(truth.faults), day


def unpublished(store: ObjectStore, day: date) -> list[str]:
    """The department marts of ``day`` missing from their departments' buckets."""
    return [
        f"s3://{department.bucket}/{mart_export_key(mart, day)}"
        for department in load_departments()
        for mart in MARTS_BY_DEPARTMENT.get(department.id, [])
        if store.stat(department.bucket, mart_export_key(mart, day)) is None
    ]


def lock_errors(platform: Platform, run_ids: list[str]) -> list[str]:
    """DuckDB lock failures in the runs' event logs and in every compute log of the instance."""
    found = [
        f"{run_id}: {entry.message}"
        for run_id in run_ids
        for entry in platform.instance.all_logs(run_id)
        if LOCK_ERROR in (entry.message or "")
    ]
    compute_logs = Path(platform.instance.root_directory) / "compute_logs"
    found += [
        str(p) for p in compute_logs.rglob("*") if p.is_file() and LOCK_ERROR in p.read_text(errors="replace")
    ]
    return found


def test_the_daemon_sets_the_pool_limits_of_its_environment(platform: Platform) -> None:
    limits = {
        pool: platform.instance.event_log_storage.get_concurrency_info(pool).slot_count
        for pool in POOL_LIMITS
    }
    assert limits == POOL_LIMITS


def test_a_sensor_triggered_ingestion_and_a_queued_marts_run_complete_out_of_process(
    platform: Platform,
    store: ObjectStore,
    sensor_ingestion: tuple[DayTruth, dg.DagsterRun],
    marts_runs: list[dg.DagsterRun],
) -> None:
    truth, ingestion = sensor_ingestion
    assert type(platform.instance.run_launcher).__name__ == "DefaultRunLauncher"
    for run in (ingestion, *marts_runs):
        assert_queued_and_run_by_workers(platform, run.run_id)
    assert_reconciles(store, SENSOR_DAY, truth)
    assert unpublished(store, SENSOR_DAY) == []


def test_two_marts_runs_submitted_together_take_turns_in_the_warehouse_pool(
    platform: Platform, marts_runs: list[dg.DagsterRun]
) -> None:
    events = {run.run_id: event_ids(platform, run.run_id) for run in marts_runs}
    first, second = sorted(events, key=lambda run_id: events[run_id][dg.DagsterEventType.RUN_START])
    ran, waited = events[first], events[second]
    # the second was queued while the first was started, and left the queue only once it had ended
    assert waited[dg.DagsterEventType.RUN_ENQUEUED] < ran[dg.DagsterEventType.RUN_SUCCESS]
    assert waited[dg.DagsterEventType.RUN_STARTING] > ran[dg.DagsterEventType.RUN_SUCCESS]
    daemon_log = platform.daemon.log.read_text()
    assert f"Run {second} is blocked by global concurrency limits" in daemon_log  # by its pool
    assert lock_errors(platform, list(events)) == []


def test_a_seven_day_backfill_through_the_daemon_builds_and_publishes_every_day_once(
    platform: Platform, store: ObjectStore, city: City, registry: None
) -> None:
    zone = load_settings().zone
    truths = {
        day: write_iot_day(store, city, day, tz=zone, seed=SEED, fault_rate=FAULT_RATE)
        for day in BACKFILL_DAYS
    }
    days = [day.isoformat() for day in BACKFILL_DAYS]
    # ingestion first, one run a day; then the marts, whose single-run backfill policy makes one run
    runs = platform.finished_backfill(platform.backfill("iot_ingest_day", days))
    runs += platform.finished_backfill(platform.backfill("marts_build_day", days))
    for run in runs:
        assert dg.DagsterEventType.RUN_ENQUEUED in event_ids(platform, run.run_id)
    graph = platform.asset_graph()
    jobs = {"iot_ingest_day", "marts_build_day"}
    assets = [key for key in graph.get_all_asset_keys() if jobs & set(graph.get(key).job_names)]
    built = Counter(
        (event.asset_key, event.partition)
        for run in runs
        for entry in platform.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
        if (event := entry.asset_materialization) is not None
    )
    assert set(built) == {(key, day) for key in assets for day in days}
    assert set(built.values()) == {1}, "every day of every asset built once"
    for day, truth in truths.items():
        assert_reconciles(store, day, truth)
        assert unpublished(store, day) == []
    assert lock_errors(platform, [run.run_id for run in runs]) == []

"""A late reading on real S3 through real Dagster runs: observed at 23:55 on day D, delivered in the
00:10 slot of D+1 (15 minutes late, within the limit), it is D's reading. D's ingestion reads D+1's
first slots for it, D+1's ingestion leaves it to D, neither quarantines it, and the landing sensor
requests D when that object arrives. Two simulated days, no faults, so the truth says every count."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from cityplatform.layout import landing_iot_key
from cityplatform.objectstore import LANDING, ObjectStore
from cityplatform.sensor_kinds import SENSOR_KINDS
from cityplatform.settings import load_settings
from citysim import DayTruth, build_city, write_iot_day
from tests.conftest import published
from tests.orchestration.sensors import tick_sensor

# The landing sensor lists the whole landing prefix: a server of its own.
pytestmark = [pytest.mark.integration, pytest.mark.own_s3]

DAY = date(2026, 6, 17)
NEXT = DAY + timedelta(days=1)
KIND = "noise"


@pytest.fixture(scope="module")
def truths(store: ObjectStore, city_env: Path) -> dict[date, DayTruth]:
    city = build_city(seed=11, sensors=20)
    tz = load_settings().zone
    return {day: write_iot_day(store, city, day, tz=tz, seed=11, fault_rate=0.0) for day in (DAY, NEXT)}


def slot_key(day: date, at: time) -> str:
    return landing_iot_key(KIND, datetime.combine(day, at, tzinfo=load_settings().zone))


@pytest.fixture(scope="module")
def moved_line(store: ObjectStore, truths: dict[date, DayTruth]) -> str:
    """The first reading of D's 23:55 object, taken out of it: it will arrive late."""
    last = slot_key(DAY, time(23, 55))
    moved, *kept = store.get_bytes(LANDING, last).decode().splitlines(keepends=True)
    store.put_bytes(LANDING, last, "".join(kept).encode())
    return moved


def tick(definitions: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
    return tick_sensor(definitions, instance, "iot_landing_sensor", cursor)


@pytest.fixture(scope="module")
def landed_tick(
    definitions: dg.Definitions, instance: dg.DagsterInstance, moved_line: str
) -> dg.SensorResult:
    """The sensor's first tick: both days landed, D's 23:55 reading not yet delivered."""
    return tick(definitions, instance, None)


@pytest.fixture(scope="module")
def late_tick(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    store: ObjectStore,
    moved_line: str,
    landed_tick: dg.SensorResult,
) -> dg.SensorResult:
    """D+1's 00:10 object delivered again with the late reading at its end; the sensor's next tick."""
    early = slot_key(NEXT, time(0, 10))
    store.put_bytes(LANDING, early, store.get_bytes(LANDING, early) + moved_line.encode())
    return tick(definitions, instance, landed_tick.cursor)


def ingest(definitions: dg.Definitions, instance: dg.DagsterInstance, day: date) -> dict[str, object]:
    result = definitions.resolve_job_def("iot_ingest_day").execute_in_process(
        instance=instance, partition_key=day.isoformat()
    )
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    bronze = next(
        e.step_materialization_data.materialization
        for e in result.get_asset_materialization_events()
        if e.step_materialization_data.materialization.asset_key.to_user_string() == "iot/bronze/readings"
    )
    return {k: getattr(v, "value", v) for k, v in bronze.metadata.items()}


@pytest.fixture(scope="module")
def ingested(
    definitions: dg.Definitions, instance: dg.DagsterInstance, late_tick: dg.SensorResult
) -> dict[date, dict[str, object]]:
    """Both days ingested after the late delivery, the later day first: the order does not matter."""
    assert definitions.resolve_job_def("iot_registry").execute_in_process(instance=instance).success
    return {day: ingest(definitions, instance, day) for day in (NEXT, DAY)}


def test_the_sensor_requests_the_day_a_late_delivery_belongs_to(
    landed_tick: dg.SensorResult, late_tick: dg.SensorResult
) -> None:
    landed = {r.partition_key: r.run_key for r in landed_tick.run_requests or []}
    late = {r.partition_key: r.run_key for r in late_tick.run_requests or []}
    # D's first slots may carry the day before's late readings: that day is asked for too.
    assert sorted(landed) == [(DAY - timedelta(days=1)).isoformat(), DAY.isoformat(), NEXT.isoformat()]
    # Only D+1's 00:10 object changed, and D's ingestion reads it: both days again, new snapshots.
    assert sorted(late) == [DAY.isoformat(), NEXT.isoformat()]
    assert all(late[day] != landed[day] for day in late)


def test_the_late_reading_is_in_its_days_bronze_only_and_quarantined_nowhere(
    store: ObjectStore,
    truths: dict[date, DayTruth],
    moved_line: str,
    ingested: dict[date, dict[str, object]],
) -> None:
    reading = pl.DataFrame([json.loads(moved_line)]).select("sensor_id", "observed_at")
    sensor_id, observed = reading.row(0)

    def bronze(day: date) -> pl.DataFrame:
        return published(store, day).read_bronze(store, KIND)

    def matches(day: date) -> pl.DataFrame:
        at = datetime.fromisoformat(observed)
        return bronze(day).filter((pl.col("sensor_id") == sensor_id) & (pl.col("observed_at") == at))

    assert matches(DAY)["source_file"].to_list() == [slot_key(NEXT, time(0, 10))]
    assert matches(NEXT).height == 0
    for day, truth in truths.items():
        counts = {kind: published(store, day).files[kind].rows for kind in SENSOR_KINDS}
        assert counts == truth.expected_accepted, day
        assert published(store, day).read_quarantine(store).height == 0, day


def test_each_day_reconciles_with_the_other_days_lines_counted(
    truths: dict[date, DayTruth], ingested: dict[date, dict[str, object]]
) -> None:
    for day, meta in ingested.items():
        assert meta["rows_in"] == meta["rows_accepted"] + meta["rows_quarantined"] + meta["rows_other_day"]
        assert meta["rows_accepted"] == sum(truths[day].expected_accepted.values()), day
        assert meta["reconciles"] is True
    assert ingested[NEXT]["rows_other_day"] == 1  # the late reading, left to D
    # D read D+1's first hour of slots; their lines but the late one are D+1's.
    assert ingested[DAY]["rows_other_day"] == ingested[DAY]["rows_in"] - ingested[DAY]["rows_accepted"]
    assert ingested[DAY]["rows_other_day"] > 0

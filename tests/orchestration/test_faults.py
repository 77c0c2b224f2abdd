"""Faults injected for real: the S3 server process stopped in the middle of an ingestion run, a run
process killed with SIGKILL, one landing state offered to two sensor ticks, and a failed day that
the repair sensor requests again until it succeeds.

Every check is against the simulator's ground truth, read the way readers read bronze (the files
the day's publication names): 0 readings lost, 0 duplicated. Between a killed run and its re-run,
readers see exactly the day published before it (or no day), never a part of the killed run's.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from dagster._core.test_utils import freeze_time
from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed

from cityplatform.embedded_s3 import EmbeddedS3
from cityplatform.layout import bronze_readings_folder, generation_of, landing_manifest_key
from cityplatform.objectstore import BRONZE, ObjectStore, parquet_record_key
from cityplatform.sensor_kinds import SENSOR_KINDS
from cityplatform.settings import load_settings
from citysim import City, DayTruth, build_city, write_iot_day
from ingestion.publication import load_publication
from orchestration.defs.iot.repair import REPAIR_ATTEMPT_TAG, backoff, days_to_repair
from tests.conftest import running_s3_server
from tests.orchestration.sensors import tick_sensor

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Days apart, so that no day's late readings (in the next day's first slots) touch another's.
REGISTRY_DAY = date(2026, 4, 20)
OUTAGE_DAY = date(2026, 5, 2)
KILLED_DAY = date(2026, 5, 5)
TWO_TICKS_DAY = date(2026, 5, 8)
REPAIRED_DAY = date(2026, 5, 11)


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedS3]:
    """A server of this module's own, since its tests stop and restart it."""
    with running_s3_server(tmp_path_factory.mktemp("fault-s3")) as server:
        yield server


@pytest.fixture(scope="module")
def city(
    store: ObjectStore, city_env: Path, definitions: dg.Definitions, instance: dg.DagsterInstance
) -> City:
    """A city big enough that ingesting a day takes a while, its sensor registry in bronze."""
    city = build_city(seed=11, sensors=160)
    write_iot_day(store, city, REGISTRY_DAY, tz=load_settings().zone, seed=11)
    assert definitions.resolve_job_def("iot_registry").execute_in_process(instance=instance).success
    return city


def land(store: ObjectStore, city: City, day: date) -> DayTruth:
    return write_iot_day(store, city, day, tz=load_settings().zone, seed=day.day, fault_rate=0.02)


def lost_and_duplicated(store: ObjectStore, truth: DayTruth, day: date) -> tuple[int, int]:
    """Readings of the truth missing from bronze, and bronze rows beyond one per landing line, read
    as readers read bronze: the files the day's publication names."""
    publication = load_publication(store, day)
    assert publication is not None, f"{day} has no publication"
    lost = duplicated = 0
    for kind in SENSOR_KINDS:
        rows = publication.read_bronze(store, kind).select("source_file", "line_no")
        unique = rows.unique().height
        lost += max(truth.expected_accepted[kind] - unique, 0)
        duplicated += rows.height - unique + max(unique - truth.expected_accepted[kind], 0)
    return lost, duplicated


def wait_for(found: object, timeout: float = 120.0, poll: float = 0.05) -> None:
    """Poll ``found()`` every ``poll`` seconds until it is true (a fault is injected at a point of
    the run)."""
    Retrying(stop=stop_after_delay(timeout), wait=wait_fixed(poll), retry=retry_if_result(lambda r: not r))(
        found
    )


def ingest(definitions: dg.Definitions, instance: dg.DagsterInstance, day: date) -> dg.ExecuteInProcessResult:
    return definitions.resolve_job_def("iot_ingest_day").execute_in_process(
        instance=instance, partition_key=day.isoformat(), raise_on_error=False
    )


def test_storage_stopped_mid_ingestion_and_restarted_the_run_completes_and_reconciles(
    s3_server: EmbeddedS3,
    store: ObjectStore,
    city: City,
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
) -> None:
    truth = land(store, city, OUTAGE_DAY)
    results: list[dg.ExecuteInProcessResult] = []
    run = threading.Thread(target=lambda: results.append(ingest(definitions, instance, OUTAGE_DAY)))
    run.start()
    # The snapshot is taken: bronze ingestion comes next. The server goes away under it.
    wait_for(lambda: store.stat(BRONZE, landing_manifest_key(OUTAGE_DAY)) is not None)
    s3_server.stop()
    stopped_at = datetime.now(UTC)
    time.sleep(3)
    s3_server.start()
    run.join()

    (result,) = results
    assert result.success
    ended = instance.get_run_record_by_id(result.run_id).end_time
    assert ended > stopped_at.timestamp(), "the run was over before the server stopped: no fault hit it"
    assert [e.check_name for e in result.get_asset_check_evaluations() if not e.passed] == []
    assert lost_and_duplicated(store, truth, OUTAGE_DAY) == (0, 0)


KILLABLE_RUN = """
import sys
from orchestration.definitions import defs
defs().resolve_job_def("iot_ingest_day").execute_in_process(partition_key=sys.argv[1])
"""


def kill_while_writing(store: ObjectStore, day: date, published: str | None) -> None:
    """Run the day's ingestion in a process of its own (its own ephemeral instance) and SIGKILL it
    as soon as a file of its own generation is in bronze, before it can publish."""
    env = {**os.environ, "PYTHONPATH": str(Path.cwd())}
    process = subprocess.Popen([sys.executable, "-c", KILLABLE_RUN, day.isoformat()], env=env)

    def writing() -> bool:
        generations = {
            generation_of(o.key)
            for kind in SENSOR_KINDS
            for o in store.list_objects(BRONZE, bronze_readings_folder(kind, day))
        }
        return bool(generations - {published}) or process.poll() is not None

    try:
        wait_for(writing, poll=0.02)  # the run publishes a few writes after its first
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL, "the run ended before it was killed"


def reader_view(store: ObjectStore, day: date) -> dict[str, tuple[str, int, str]] | None:
    """What a reader of the day reads now: each file its publication names, with the rows and sha256
    read back from the object (equal to the record, so no file is half there); None: no day yet."""
    publication = load_publication(store, day)
    if publication is None:
        return None
    view = {}
    for name, record in publication.files.items():
        data = store.get_bytes(record.info.bucket, record.info.key)
        read = (record.info.uri, pl.read_parquet(data).height, hashlib.sha256(data).hexdigest())
        assert read[1:] == (record.rows, record.sha256), f"{record.info.uri} is not what was published"
        view[name] = read
    return view


def test_a_run_killed_partway_and_re_executed_leaves_each_reading_once(
    store: ObjectStore, city: City, definitions: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    truth = land(store, city, KILLED_DAY)
    # A first ingestion killed while it writes: readers see no day at all.
    kill_while_writing(store, KILLED_DAY, published=None)
    assert reader_view(store, KILLED_DAY) is None
    assert ingest(definitions, instance, KILLED_DAY).success
    assert lost_and_duplicated(store, truth, KILLED_DAY) == (0, 0)
    before = reader_view(store, KILLED_DAY)
    first = load_publication(store, KILLED_DAY)
    assert before is not None and first is not None

    # A re-ingestion killed while it writes its generation: readers see exactly the day before it.
    kill_while_writing(store, KILLED_DAY, published=first.generation)
    assert reader_view(store, KILLED_DAY) == before
    assert lost_and_duplicated(store, truth, KILLED_DAY) == (0, 0)

    # Re-executed: the day reconciles, and only the files it names are left.
    assert ingest(definitions, instance, KILLED_DAY).success
    assert lost_and_duplicated(store, truth, KILLED_DAY) == (0, 0)
    final = load_publication(store, KILLED_DAY)
    assert final is not None and final.generation > first.generation
    folders = [bronze_readings_folder(kind, KILLED_DAY) for kind in SENSOR_KINDS]
    left = {o.key for folder in folders for o in store.list_objects(BRONZE, folder)}
    named = {final.bronze_key(kind) for kind in SENSOR_KINDS}
    assert left == named | {parquet_record_key(key) for key in named}


def test_one_landing_state_offered_to_two_ticks_is_ingested_once(
    store: ObjectStore, city: City, definitions: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    truth = land(store, city, TWO_TICKS_DAY)

    def tick() -> list[dg.RunRequest]:
        # two ticks that overlap both start from the cursor before the delivery
        result = tick_sensor(definitions, instance, "iot_landing_sensor")
        return [r for r in result.run_requests if r.partition_key == TWO_TICKS_DAY.isoformat()]

    first, second = tick(), tick()
    assert first and [r.run_key for r in first] == [r.run_key for r in second]
    # Were the run key ever not enough (both runs launched), ingestion replaces the day.
    for request in [*first, *second]:
        job = definitions.resolve_job_def("iot_ingest_day")
        tags = {**request.tags, "dagster/run_key": request.run_key or ""}
        assert job.execute_in_process(
            instance=instance, partition_key=request.partition_key, tags=tags
        ).success
    assert lost_and_duplicated(store, truth, TWO_TICKS_DAY) == (0, 0)


def test_a_failed_day_is_requested_again_after_its_backoff_until_a_run_succeeds(
    store: ObjectStore, city: City, definitions: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    day = REPAIRED_DAY.isoformat()
    sensor = definitions.resolve_sensor_def("iot_repair_sensor")

    def tick(at: datetime) -> list[dg.RunRequest]:
        with freeze_time(at), dg.build_sensor_context(instance=instance) as ctx:
            return [r for r in sensor(ctx).run_requests or [] if r.partition_key == day]

    def records() -> list[dg.RunRecord]:
        return list(instance.get_run_records(dg.RunsFilter(job_name="iot_ingest_day")))

    # Nothing has landed for the day yet: its run fails for real.
    failed = ingest(definitions, instance, REPAIRED_DAY)
    assert not failed.success
    ended = datetime.fromtimestamp(instance.get_run_record_by_id(failed.run_id).end_time, UTC)
    assert tick(ended + backoff(1) - timedelta(seconds=1)) == []
    (repair,) = tick(ended + backoff(1))
    assert repair.tags[REPAIR_ATTEMPT_TAG] == "1"

    # The repair fails again (still nothing landed): the next attempt waits twice as long.
    again = definitions.resolve_job_def("iot_ingest_day").execute_in_process(
        instance=instance, partition_key=day, tags=repair.tags, raise_on_error=False
    )
    assert not again.success
    ended = datetime.fromtimestamp(instance.get_run_record_by_id(again.run_id).end_time, UTC)
    assert tick(ended + backoff(2) - timedelta(seconds=1)) == []
    (second,) = tick(ended + backoff(2))
    assert second.tags[REPAIR_ATTEMPT_TAG] == "2" and second.run_key != repair.run_key

    # The day's files arrive; the repair run succeeds, and the day is left alone from then on.
    truth = land(store, city, REPAIRED_DAY)
    fixed = definitions.resolve_job_def("iot_ingest_day").execute_in_process(
        instance=instance, partition_key=day, tags=second.tags
    )
    assert fixed.success
    assert lost_and_duplicated(store, truth, REPAIRED_DAY) == (0, 0)
    assert tick(ended + timedelta(days=1)) == []
    assert [r.day for r in days_to_repair(records(), ended + timedelta(days=1))] == []

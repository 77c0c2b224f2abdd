"""Self-repair: a day whose latest ingestion run failed is requested again, with backoff, until a
run of it succeeds.

The landing sensor requests a day when its landing content changes and the nightly schedule once,
so a run that failed (storage down for longer than the asset retries ride out, a worker killed and
marked failed by run monitoring) would leave the day broken until new files arrive. This sensor
reads the latest ingestion run of each day from the instance; when it failed, it requests the day
again once the backoff of that attempt has passed (1, 2, 4 ... minutes, at most an hour), with a new
run key per attempt. Ingestion replaces a day, so a repaired day holds each reading once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster._core.storage.tags import PARTITION_NAME_TAG
from dagster._time import get_current_datetime

from orchestration.defs.iot.jobs import ingest_day_job

REPAIR_ATTEMPT_TAG = "city/repair_attempt"
FIRST_BACKOFF = timedelta(minutes=1)
MAX_BACKOFF = timedelta(hours=1)
# Failures older than this are left to an operator: the sensor reads a bounded slice of history.
REPAIR_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Repair:
    day: str  # the partition key
    attempt: int  # 1 for the first repair of a failure
    failed_run_id: str


def backoff(attempt: int) -> timedelta:
    """How long after a failed run the ``attempt``-th repair may start: doubling, capped."""
    return min(FIRST_BACKOFF * 2 ** (attempt - 1), MAX_BACKOFF)


def days_to_repair(records: Iterable[dg.RunRecord], now: datetime) -> list[Repair]:
    """The days whose latest run (``records`` newest first, as the instance returns them) failed and
    whose backoff has passed at ``now``. A day whose latest run succeeded, or still runs, is left."""
    latest: dict[str, dg.RunRecord] = {}
    for record in records:
        if (day := record.dagster_run.tags.get(PARTITION_NAME_TAG)) is not None:
            latest.setdefault(day, record)
    repairs = []
    for day, record in sorted(latest.items()):
        run = record.dagster_run
        if run.status != dg.DagsterRunStatus.FAILURE or record.end_time is None:
            continue
        attempt = int(run.tags.get(REPAIR_ATTEMPT_TAG, "0")) + 1
        if now - datetime.fromtimestamp(record.end_time, UTC) >= backoff(attempt):
            repairs.append(Repair(day, attempt, run.run_id))
    return repairs


@dg.sensor(
    job=ingest_day_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "A day whose latest iot_ingest_day run failed is requested again after a backoff (1, 2, 4 "
        "... minutes, at most an hour), each attempt with its own run key, until a run succeeds."
    ),
)
def iot_repair_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    now = get_current_datetime()  # Dagster's clock, which its tests can set
    records = context.instance.get_run_records(
        dg.RunsFilter(job_name=ingest_day_job.name, created_after=now - REPAIR_WINDOW)
    )
    repairs = days_to_repair(records, now)
    if not repairs:
        return dg.SensorResult(skip_reason="no failed ingestion day due for a retry")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"iot-repair-{r.day}-{r.failed_run_id}",
                partition_key=r.day,
                tags={REPAIR_ATTEMPT_TAG: str(r.attempt), "city/repairs_run": r.failed_run_id},
            )
            for r in repairs
        ]
    )

"""A publication's department report: the marts it draws read from the warehouse, the status of
their checks in the publishing run, and the page written where the department and its people look.

Where: ``s3://<department's bucket>/reports/date=YYYY-MM-DD/report.html`` for the day reported, and,
while that day is the newest reported, ``reports/latest.html`` beside it and
``<CITY_HOME>/reports/departments/<department>.html`` (re-publishing an older day leaves those alone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl

from cityplatform.layout import (
    DEPARTMENT_REPORT_LATEST_KEY,
    DEPARTMENT_REPORTS_PREFIX,
    department_report_key,
    partition_date,
)
from cityplatform.objectstore import ObjectStore
from cityplatform.settings import Settings
from governance.department_report import CheckStatus, history_start, render_report
from governance.registry.departments import Department

HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class PublishedReport:
    day: date
    uri: str  # the day's report
    latest_uri: str | None  # None when a newer day's report is the latest
    path: Path | None  # the local copy of the latest, when this is it


def report_frames(warehouse: Path, schema: str, marts: Sequence[str], day: date) -> dict[str, pl.DataFrame]:
    """Each mart's rows from ``history_start(day)`` to ``day`` (every report mart has ``local_date``)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("set TimeZone = 'UTC'")  # instants arrive as UTC; the report converts to city time
        return {
            mart: con.execute(
                f'select * from "{schema}"."{mart}" where local_date between ? and ? order by all',
                [history_start(day), day],
            ).pl()
            for mart in marts
        }


def run_check_statuses(
    instance: dg.DagsterInstance, run_id: str, marts: Mapping[str, dg.AssetKey]
) -> dict[str, CheckStatus]:
    """Per mart (name -> asset key), the outcome of each of its checks evaluated in run ``run_id``:
    the checks of the rows this run built and publishes. A mart none of whose checks ran in the
    run (the publication materialised alone) gets none, and its report says "not checked"."""
    names = {key: mart for mart, key in marts.items()}
    outcomes: dict[str, dict[str, str]] = {mart: {} for mart in marts}
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    for record in records.records:
        event = record.event_log_entry.dagster_event
        evaluation = event.asset_check_evaluation_data if event else None
        if evaluation is None or evaluation.asset_key not in names:
            continue
        if evaluation.passed:
            outcome = "pass"
        else:
            outcome = "warn" if evaluation.severity is dg.AssetCheckSeverity.WARN else "fail"
        outcomes[names[evaluation.asset_key]][evaluation.check_name] = outcome
    return {mart: CheckStatus(found) for mart, found in outcomes.items()}


def publish_report(
    store: ObjectStore,
    settings: Settings,
    department: Department,
    frames: Mapping[str, pl.DataFrame],
    checks: Mapping[str, CheckStatus],
    *,
    day: date,
    run_id: str,
) -> PublishedReport:
    """Render the report of ``day`` and write it: the day's object always, the latest object and
    the local file unless the bucket already holds a newer day's report."""
    html = render_report(
        department, day, frames, checks, zone=settings.zone, generated_at=datetime.now(UTC), run_id=run_id
    )
    key = department_report_key(day)
    store.put_bytes(department.bucket, key, html, HTML)
    reported = (
        partition_date(o.key) for o in store.list_objects(department.bucket, DEPARTMENT_REPORTS_PREFIX)
    )
    if max((d for d in reported if d is not None), default=day) > day:
        return PublishedReport(day, f"s3://{department.bucket}/{key}", None, None)
    store.put_bytes(department.bucket, DEPARTMENT_REPORT_LATEST_KEY, html, HTML)
    path = settings.reports_dir / "departments" / f"{department.id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(html)
    return PublishedReport(
        day,
        f"s3://{department.bucket}/{key}",
        f"s3://{department.bucket}/{DEPARTMENT_REPORT_LATEST_KEY}",
        path,
    )


def report_metadata(report: PublishedReport) -> dict[str, dg.MetadataValue]:
    """Links to the report in a materialisation's metadata: the day's object, and the latest object
    and local file when this is the latest."""
    links = {"report": report.uri, "report_latest": report.latest_uri, "report_file": report.path}
    metadata: dict[str, dg.MetadataValue] = {
        name: dg.MetadataValue.path(str(target)) for name, target in links.items() if target is not None
    }
    metadata["report_date"] = dg.MetadataValue.text(report.day.isoformat())
    return metadata

"""``city demo`` and ``city ui``: the whole platform on one machine, and the Dagster UI on its state."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from cityapp.dagster_home import prepare_dagster_home
from cityplatform.embedded_s3 import EmbeddedS3, EmbeddedS3Error
from cityplatform.exits import (
    EXIT_CONFIG,
    EXIT_DATA,
    EXIT_STORAGE,
    console,
    day_or_exit,
    exit_on,
    settings_or_exit,
)
from cityplatform.layout import (
    CLIP_PUBLICATIONS,
    DEPARTMENT_REPORT_LATEST_KEY,
    bronze_cctv_prefix,
    landing_cctv_prefix,
    landing_iot_prefix,
    mart_export_key,
    quarantine_readings_folder,
    readings_publication_key,
)
from cityplatform.objectstore import BRONZE, LANDING, QUARANTINE, ObjectStoreError
from cityplatform.output import JSON_OPTION, print_json, stage_progress
from cityplatform.settings import EARLIEST_DAY
from cityplatform.yamlfiles import RegistryError
from governance.registry.departments import load_departments

if TYPE_CHECKING:
    from cityapp.demo import DemoSummary
    from cityplatform.settings import Settings


def demo(
    day: str = typer.Option("", help="Local day to simulate (YYYY-MM-DD); default: yesterday."),
    sensors: int = typer.Option(200, min=10, help="IoT sensors in the simulated city."),
    seed: int = typer.Option(42, help="Simulator seed: same seed, same city and data."),
    fault_rate: float = typer.Option(
        0.01, min=0.0, max=0.5, help="Share of landing lines broken on purpose."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Start S3, simulate a city day into landing, materialise every asset, and summarise.

    Exit 0 when every run succeeded and no blocking check failed, 4 when data failed its checks."""
    from cityapp.demo import run_demo

    settings = settings_or_exit()
    # A day that has ended and can be a partition, checked before anything lands: the demo records
    # the day it lands as the first partition day.
    yesterday = settings.today() - timedelta(days=1)
    days = (settings.first_day or EARLIEST_DAY, yesterday)
    the_day = day_or_exit(day, "--day", between=days) if day else yesterday
    # The registry is read first (the departments' access), so a broken one stops it before anything lands.
    with (
        exit_on(RegistryError, code=EXIT_CONFIG),
        exit_on(EmbeddedS3Error, ObjectStoreError, code=EXIT_STORAGE),
        stage_progress() as stages,
    ):
        summary = run_demo(
            settings, the_day, sensors=sensors, seed=seed, fault_rate=fault_rate, stages=stages
        )
    if as_json:
        print_json(_summary_data(summary))
    else:
        _print_summary(summary, settings)
    if not summary.success:
        raise typer.Exit(EXIT_DATA)


def _summary_data(summary: DemoSummary) -> dict[str, object]:
    bronze = summary.asset_metadata("iot/bronze/readings")
    return {
        "day": summary.day.isoformat(),
        "success": summary.success,
        "ingestion": {
            key: bronze.get(key)
            for key in ("rows_in", "rows_accepted", "rows_quarantined", "quarantined_by_reason", "reconciles")
        },
        "injected": {
            "lines": sum(summary.truth.lines_written.values()),
            "faults": summary.injected_by_reason,
        },
        "runs": [
            {
                "job": job.name,
                "partition": job.partition_key,
                "run_id": job.run_id,
                "success": job.success,
                "failed_checks": job.failed_checks,
            }
            for job in summary.jobs
        ],
        "marts": {
            department.id: {
                "bucket": department.bucket,
                "rows_by_mart": summary.asset_metadata(f"marts/published/{department.id}").get(
                    "rows_by_mart", {}
                ),
            }
            for department in load_departments()
        },
        "log": str(summary.log_path),
    }


def _print_summary(summary: DemoSummary, settings: Settings) -> None:
    the_day = summary.day
    bronze = summary.asset_metadata("iot/bronze/readings")
    table = Table(title=f"IoT ingestion of {the_day}", show_lines=False)
    table.add_column("")
    table.add_column("rows", justify="right")
    table.add_column("injected by the simulator", justify="right")
    table.add_row(
        "lines in", f"{bronze.get('rows_in', 0):,}", f"{sum(summary.truth.lines_written.values()):,}"
    )
    table.add_row("accepted into bronze", f"{bronze.get('rows_accepted', 0):,}", "")
    table.add_row("quarantined", f"{bronze.get('rows_quarantined', 0):,}", f"{len(summary.truth.faults):,}")
    injected = summary.injected_by_reason
    for reason, count in dict(bronze.get("quarantined_by_reason", {})).items():
        table.add_row(f"  {reason}", f"{count:,}", f"{injected.get(reason, 0):,}")
    console.print(table)
    console.print(f"reconciles (in = accepted + quarantined): {bronze.get('reconciles')}")
    for job in summary.jobs:
        status = "[green]ok[/]" if job.success and not job.failed_checks else "[red]FAILED[/]"
        checks = f" failed checks: {', '.join(job.failed_checks)}" if job.failed_checks else ""
        partition = f" {escape(f'[{job.partition_key}]')}" if job.partition_key else ""
        console.print(f"job {job.name}{partition}: {status} (run {job.run_id[:8]}){checks}")
    marts = Table(title=f"Marts of {the_day}, published per department", show_lines=False)
    marts.add_column("department")
    marts.add_column("bucket")
    marts.add_column("rows by mart")
    for department in load_departments():
        published = summary.asset_metadata(f"marts/published/{department.id}")
        rows = dict(published.get("rows_by_mart", {}))
        marts.add_row(
            department.id, f"s3://{department.bucket}/", ", ".join(f"{m} {n:,}" for m, n in rows.items())
        )
    console.print(marts)
    endpoint = f"http://{summary.server.endpoint}"
    console.print(
        escape(
            "\nWhere to look\n"
            f"  S3 endpoint      {endpoint} ({summary.server.backend}; keys: CITY_S3_ACCESS_KEY/SECRET_KEY)\n"
            f"  landing          s3://{LANDING}/{landing_iot_prefix('<kind>', the_day)} and "
            f"s3://{LANDING}/{landing_cctv_prefix('<camera>', the_day)}\n"
            f"  bronze IoT       s3://{BRONZE}/{readings_publication_key(the_day)} names the day's files\n"
            f"  bronze CCTV      s3://{BRONZE}/{bronze_cctv_prefix(CLIP_PUBLICATIONS, the_day)} names each "
            "clip's files\n"
            f"  quarantine       s3://{QUARANTINE}/{quarantine_readings_folder(the_day)}gen=<generation>/\n"
            f"  warehouse        {settings.warehouse_path} (DuckDB; schemas per department)\n"
            f"  marts            s3://<department's bucket, above>/{mart_export_key('<mart>', the_day)}\n"
            f"  steward report   {settings.reports_dir / 'steward-report.html'}\n"
            f"  dept. reports    {settings.reports_dir / 'departments'}/<department>.html and "
            f"s3://<department's bucket>/{DEPARTMENT_REPORT_LATEST_KEY}\n"
            f"  department keys  {settings.department_credentials_path}   (grants: city access show)\n"
            "  lineage report   .venv/bin/city lineage report   (lineage events in s3://lineage/)\n"
            f"  job logs         {summary.log_path}\n"
            "  Dagster UI       make ui   (then http://127.0.0.1:3000)\n"
            "  stop S3          .venv/bin/city storage down"
        ),
        soft_wrap=True,
    )


def ui(
    port: int = typer.Option(3000, help="Port of the Dagster webserver."),
) -> None:
    """Open the Dagster UI (dagster dev) on the demo's instance, with S3 running."""
    settings = settings_or_exit()
    with exit_on(EmbeddedS3Error, ObjectStoreError, code=EXIT_STORAGE):
        EmbeddedS3.from_settings(settings).start()
    home = prepare_dagster_home(settings)
    console.print(f"Dagster UI on http://127.0.0.1:{port} (instance {home}); Ctrl-C to stop")
    # Reads [tool.dagster] in pyproject.toml: module orchestration.definitions, location smart_city.
    command = [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1"]
    raise typer.Exit(subprocess.call([*command, "-p", str(port)], env=os.environ))

"""Runs launched out of process on the production topology against the same jobs in process.

Out of process is what a city runs (tests/production/topology.py): the instance of
infra/dagster/dagster.yaml on a throwaway PostgreSQL, a gRPC code server, the Dagster daemon; a
run is submitted to the queue, the daemon dequeues it, the default run launcher starts a run worker
and the multiprocess executor a process per step. Timed from submission to RUN_SUCCESS.
In process is ``execute_in_process`` of the same job in this process (the code location already
loaded) on the same instance, S3 server, day and data.

Both re-build the same simulated day, taking turns round by round (so a burst of load elsewhere on
the machine hits both alike); the median of each is compared. The registry is loaded once first.
A launched run's fixed cost is shown apart, from its event log: submission to the run worker's start
(queue and process start, the code location loaded) and from there to its first step's start (the
step server's start: imports and definitions built once for the run's steps).

    .venv/bin/python benchmarks/runs.py --sensors 500 --rounds 3
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/production's topology

from cityplatform.embedded_s3 import temporary_server
from cityplatform.objectstore import CORE_BUCKETS, LANDING
from cityplatform.settings import load_settings
from citysim import build_city, write_iot_day
from citysim.landing import registry_objects
from governance.registry.departments import mart_buckets
from tests.governance.registry_files import trained_registry
from tests.production.postgres import temporary_postgres
from tests.production.topology import Platform, running_platform

DAY = date(2026, 11, 24)
JOBS = ("iot_ingest_day", "marts_build_day")
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
ACCESS_KEY, SECRET_KEY = "bench-admin", "bench-secret-key-0123456789"


def timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def in_process(platform: Platform, job: str) -> Callable[[], object]:
    from orchestration.definitions import defs

    definition = defs().resolve_job_def(job)

    def run() -> None:
        # dbt's own output goes to the run's stdout: kept off the benchmark's table, as launched runs'
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            result = definition.execute_in_process(
                instance=platform.instance, partition_key=DAY.isoformat(), run_config=QUIET
            )
        if not result.success:
            raise RuntimeError(f"{job} failed in process (run {result.run_id})")

    return run


def out_of_process(platform: Platform, job: str, launches: list[tuple[float, float]]) -> Callable[[], object]:
    """Submit ``job`` and wait for it; append its (to run start, to first step) seconds to ``launches``."""

    def run() -> None:
        submitted = time.time()
        run_id = platform.submit(job, DAY.isoformat())
        platform.finished(run_id)
        started = platform.instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.RUN_START, limit=1
        ).records
        first_step = platform.instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.STEP_START, limit=1
        ).records
        run_start, step_start = (r[0].timestamp for r in (started, first_step))
        launches.append((run_start - submitted, step_start - run_start))

    return run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sensors", type=int, default=500, help="simulated IoT sensors (default 500)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each side per job (default 3)")
    args = parser.parse_args()
    console = Console()
    with tempfile.TemporaryDirectory(prefix="bench-runs-") as tmp:
        base = Path(tmp)
        with temporary_server(base / "s3", ACCESS_KEY, SECRET_KEY) as server, temporary_postgres() as pg:
            store = server.store()
            store.ensure_buckets([*CORE_BUCKETS, *mart_buckets()])
            pg.create_database("dagster_bench")
            os.environ.update(
                {
                    "CITY_HOME": str(base / "city"),
                    "CITY_S3_ENDPOINT": server.endpoint,
                    "CITY_S3_ACCESS_KEY": ACCESS_KEY,
                    "CITY_S3_SECRET_KEY": SECRET_KEY,
                    "CITY_FIRST_DAY": DAY.isoformat(),
                    "CITY_GOVERNANCE_REGISTRY": str(trained_registry(base / "registry")),
                    "DBT_TARGET_PATH": str(base / "dbt_target"),
                    **pg.dagster_env("dagster_bench"),
                }
            )
            city = build_city(seed=7, sensors=args.sensors)
            for key, data in registry_objects(city).items():
                store.put_bytes(LANDING, key, data, content_type="text/csv")
            with console.status(f"simulating {DAY} for {args.sensors} sensors"):
                write_iot_day(store, city, DAY, tz=load_settings().zone, seed=7, fault_rate=0.01)
            with ExitStack() as stack:
                with console.status("starting PostgreSQL-backed Dagster: code server and daemon"):
                    platform = stack.enter_context(running_platform(base / "dagster_home", os.environ))
                platform.finished(platform.submit("iot_registry"))
                measured = measure(platform, args.rounds, console)
    report(measured, args, console)


@dataclass
class Measured:
    times: dict[str, list[float]] = field(default_factory=lambda: {"in process": [], "out of process": []})
    launches: list[tuple[float, float]] = field(default_factory=list)


def measure(platform: Platform, rounds: int, console: Console) -> dict[str, Measured]:
    measured = {job: Measured() for job in JOBS}
    for job in JOBS:  # marts read the day's bronze: ingestion's rounds first
        sides = {
            "in process": in_process(platform, job),
            "out of process": out_of_process(platform, job, measured[job].launches),
        }
        for n in range(rounds):
            for side, work in sides.items():
                with console.status(f"{job}, round {n + 1}/{rounds}: {side}"):
                    measured[job].times[side].append(timed(work))
    return measured


def report(measured: dict[str, Measured], args: argparse.Namespace, console: Console) -> None:
    table = Table(title=f"one day, {args.sensors} sensors, median of {args.rounds} interleaved rounds")
    columns = ("job", "in process", "out of process", "ratio", "each round (out / in)")
    for column in (*columns, "of which: to run start", "then to first step"):
        table.add_column(column, justify="left" if column == "job" else "right")
    for job, m in measured.items():
        inside, outside = (statistics.median(m.times[s]) for s in ("in process", "out of process"))
        pairs = zip(m.times["in process"], m.times["out of process"], strict=True)
        rounds = " ".join(f"{outside_s / inside_s:.2f}" for inside_s, outside_s in pairs)
        to_run, to_step = (statistics.median(phase) for phase in zip(*m.launches, strict=True))
        row = (f"{inside:.1f} s", f"{outside:.1f} s", f"{outside / inside:.2f}", rounds)
        table.add_row(job, *row, f"{to_run:.1f} s", f"{to_step:.1f} s")
    console.print(table)


if __name__ == "__main__":
    main()

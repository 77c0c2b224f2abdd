"""Marts build time: ``dbt build`` of every mart over simulated days, against the same SQL run directly.

Both sides read the same bronze parquet from the same embedded S3 server through DuckDB httpfs and
write a new warehouse file, which starts as a warehouse does after its first dbt command: holding
only the source views (macros/bronze_views.sql) that dbt's on-run-start hook creates once and then
keeps while their pattern is unchanged. Creating them is timed apart, as a one-off cost of a new
warehouse: at city scale a CCTV view reads the footer of every clip's file. The baseline takes
dbt's compiled SQL of every model (and of every data test) and runs it in dependency order in one
DuckDB connection with the profile's settings, so the ratio is dbt's own overhead: process start,
loading the (partially) parsed project, the on-run-start hook finding the source views current,
compiling (with the S3 listing that picks each source's files), per-node transactions, contracts
and incremental logic, and one query per data test.
dbt is invoked as Dagster invokes it: the project parsed once per deployment with the platform's
environment, the run window in the environment (not ``--vars``, which force a full re-parse), JSON
log lines on stdout, and the production flags (no JSON artifacts, no log file).
Unit tests run on fixtures, not data, and dbt advises running them in CI only, as Dagster does.
A build that selects no node gives dbt's fixed cost per process, and so the lowest ratio any
project could reach on this data; what the build adds beyond it and the direct SQL is per node.
Timings depend on what else the machine runs (here they swing by a third from one minute to the
next), so both sides run ``--repeat`` times, interleaved and alternating which goes first, and the
table gives the median of each side and the ratio of every round.

The issue's figure is at city scale, where the direct SQL takes over a minute on 2 cores and dbt's
fixed cost per process no longer dominates; 500 sensors is a reference size only:

    .venv/bin/python benchmarks/marts.py --days 30 --sensors 3000 --repeat 3

After the rounds, the nightly build: one day more on top of dbt's warehouse, as the schedule runs it,
``--repeat`` times from the same warehouse (one build swings by a fifth here); the median is reported.
Simulating is the slow part at city scale, so only --distinct-days days are simulated and the others
repeat them, shifted to their own date.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import Path
from time import perf_counter
from typing import Any

import duckdb
import numpy as np
import polars as pl
from rich.console import Console
from rich.progress import track
from rich.table import Table

from cityplatform.embedded_s3 import temporary_server
from cityplatform.layout import (
    ClipName,
    bronze_readings_key,
    bronze_registry_key,
    new_generation,
    quarantine_readings_key,
)
from cityplatform.objectstore import BRONZE, CORE_BUCKETS, QUARANTINE, ObjectStore, parquet_bytes
from cityplatform.settings import load_settings
from citysim import City, build_city, simulate_day
from governance.contracts.registry import REGISTRY_SCHEMAS
from ingestion.iot import QUARANTINE_SCHEMA, bronze_schema
from ingestion.publication import QUARANTINE_FILE, Publication, publish
from orchestration.lib.dbt import (
    DBT_PROJECT_DIR,
    PRODUCTION_BUILD,
    dbt_env,
    partition_window,
)
from vision_jobs.publication import write_clip
from vision_jobs.registry import load_registry
from vision_jobs.sinks import COUNTS_SCHEMA, COVERAGE_SCHEMA

FIRST_DAY = date(2026, 3, 1)
# (line, direction, class, mean crossings per minute) of a simulated camera at a crosswalk.
CLIP_RATES = (
    ("road", "eastbound", "car", 9),
    ("road", "westbound", "car", 8),
    ("road", "eastbound", "bus", 1),
    ("crosswalk", "northbound", "person", 4),
    ("crosswalk", "southbound", "person", 4),
)


def write_bronze_day(
    store: ObjectStore, city: City, day: date, seed: int, tz: tzinfo, simulated: date
) -> int:
    """The simulator's clean readings of ``simulated`` moved to ``day``, as bronze parquet, as
    ingestion would write them."""
    readings = simulate_day(city, simulated, tz=tz, seed=seed)
    shift = datetime.combine(day, time(), tz) - datetime.combine(simulated, time(), tz)
    rows = 0
    generation = new_generation()
    files = {}
    for kind, kind_readings in readings.kinds.items():
        sensors = len(kind_readings.sensor_ids)
        slots = len(readings.slots)
        frame = pl.DataFrame(
            {
                "sensor_id": np.tile(kind_readings.sensor_ids, slots),
                "kind": kind,
                "observed_at": (pl.Series(readings.slots).dt.convert_time_zone("UTC") + shift).gather(
                    np.repeat(np.arange(slots), sensors)
                ),
                **{measure: values.reshape(-1) for measure, values in kind_readings.values.items()},
                "source_file": "citysim",
                "line_no": pl.int_range(1, slots * sensors + 1, eager=True),
            }
        ).cast(bronze_schema(kind))
        files[kind] = store.put_parquet(BRONZE, bronze_readings_key(kind, day, generation), frame)
        rows += frame.height
    quarantine = pl.DataFrame(schema=QUARANTINE_SCHEMA)
    files[QUARANTINE_FILE] = store.put_parquet(
        QUARANTINE, quarantine_readings_key(day, generation), quarantine
    )
    publish(store, Publication(day, generation, files, state={}))  # what dbt reads
    return rows


def write_registry(store: ObjectStore, city: City) -> None:
    tables = {
        "sensors": city.sensors,
        "districts": city.districts,
        "road_segments": city.road_segments,
        "river_gauges": city.river_gauges,
    }
    for table, records in tables.items():
        columns = list(REGISTRY_SCHEMAS[table].columns)
        frame = pl.DataFrame([{c: getattr(r, c) for c in columns} for r in records], infer_schema_length=None)
        store.put_bytes(BRONZE, bronze_registry_key(table), parquet_bytes(frame))


def write_cctv_day(store: ObjectStore, day: date, rng: np.random.Generator, tz: tzinfo) -> int:
    """One 5-minute clip per camera and hour: per-minute counts and coverage, in the vision job's schemas."""
    rows = 0
    for camera in load_registry().cameras.values():
        for hour in range(24):
            start = datetime.combine(day, time(hour), tz)
            name = ClipName(camera.camera_id, start)
            records = [
                {
                    "camera_id": camera.camera_id,
                    "segment_id": camera.segment_id,
                    "district_id": camera.district_id,
                    "clip": name.format(),
                    "minute_start": start + timedelta(minutes=minute),
                    "line_id": line,
                    "direction": direction,
                    "object_class": object_class,
                    "crossings": int(rng.poisson(rate)),
                }
                for minute in range(5)
                for line, direction, object_class, rate in CLIP_RATES
            ]
            table = pl.DataFrame(records, schema=COUNTS_SCHEMA).filter(pl.col("crossings") > 0)
            coverage = [
                {
                    "camera_id": camera.camera_id,
                    "segment_id": camera.segment_id,
                    "district_id": camera.district_id,
                    "clip": name.format(),
                    "minute_start": start + timedelta(minutes=minute),
                    "frames": 300,
                    "observed_seconds": 60.0,
                }
                for minute in range(5)
            ]
            frame = pl.DataFrame(coverage, schema=COVERAGE_SCHEMA)
            write_clip(store, BRONZE, name, {"counts": table, "coverage": frame})
            rows += table.height
    return rows


@dataclass
class Timing:
    seconds: float
    cpu_seconds: float  # user + system CPU of the process(es) timed
    load: tuple[float, float]  # 1-minute load average before and after
    note: str = ""


def run_dbt(args: list[str], env: dict[str, str]) -> Timing:
    dbt = Path(sys.executable).with_name("dbt")
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = perf_counter()
    result = subprocess.run(
        [os.fspath(dbt), *args], cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True
    )
    elapsed = perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(args)} failed:\n{result.stdout[-4000:]}")
    lines = result.stdout.splitlines()
    messages = [json.loads(line)["info"]["msg"] for line in lines if line.startswith("{")]
    reparsed = [msg for msg in messages if "Unable to do partial parsing" in msg]
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    note = "full re-parse: " + reparsed[0].split("because")[-1].strip() if reparsed else "partial parse"
    return Timing(elapsed, cpu, (load, os.getloadavg()[0]), note)


def _ordered_nodes(manifest: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    """Nodes of one type in dependency order (dbt's own order: parents first)."""
    nodes = {
        uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] in ("model", "seed", "snapshot")
    }
    ordered: list[str] = []
    seen: set[str] = set()

    def visit(uid: str) -> None:
        if uid in seen or uid not in nodes:
            return
        seen.add(uid)
        for parent in manifest["parent_map"].get(uid, []):
            visit(parent)
        ordered.append(uid)

    for uid in sorted(nodes):
        visit(uid)
    if resource_type == "model":  # snapshots among them, where the models read them
        return [nodes[u] for u in ordered if nodes[u]["resource_type"] in ("model", "snapshot")]
    return [n for n in manifest["nodes"].values() if n["resource_type"] == resource_type]


def direct_sql(warehouse: Path, env: dict[str, str], manifest: dict[str, Any]) -> tuple[Timing, Timing]:
    """Run dbt's compiled model SQL (then its data tests) straight in DuckDB, in a warehouse holding
    the source views; time models, then all."""
    extension = Path(env["CITY_DUCKDB_EXTENSION_DIR"])
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = perf_counter()
    con = duckdb.connect(os.fspath(warehouse), config={"extension_directory": os.fspath(extension)})
    con.execute("load httpfs")
    con.execute(f"set TimeZone = '{env['CITY_TIMEZONE']}'")
    con.execute("set threads = 8")  # as the profile sets it
    con.execute(
        "create secret (type s3, key_id ?, secret ?, endpoint ?, url_style 'path', use_ssl false)",
        [env["DBT_ENV_SECRET_S3_ACCESS_KEY"], env["DBT_ENV_SECRET_S3_SECRET_KEY"], env["CITY_S3_ENDPOINT"]],
    )
    seed = next(n for n in manifest["nodes"].values() if n["resource_type"] == "seed")
    con.execute(f"create schema if not exists {seed['schema']}")
    con.execute(
        f"create table {seed['schema']}.{seed['name']} as select * from read_csv(?, header = true)",
        [os.fspath(DBT_PROJECT_DIR / seed["original_file_path"])],
    )
    for node in _ordered_nodes(manifest, "model"):
        con.execute(f"create schema if not exists {node['schema']}")
        query = node["compiled_code"]
        if node["resource_type"] == "snapshot":  # a first snapshot: every row, valid from now
            query = (
                "select *, md5(cast(random() as varchar)) as dbt_scd_id, now() as dbt_updated_at, now() "
                f"as dbt_valid_from, cast(null as timestamp with time zone) as dbt_valid_to from ({query})"
            )
        con.execute(f"create or replace table {node['schema']}.{node['name']} as {query}")
    models = Timing(perf_counter() - start, _cpu_since(before), (load, os.getloadavg()[0]))
    for node in _ordered_nodes(manifest, "test"):
        if node.get("compiled_code"):
            con.execute(f"select count(*) from ({node['compiled_code']})").fetchone()
    con.close()
    return models, Timing(perf_counter() - start, _cpu_since(before), (load, os.getloadavg()[0]))


# A selector no node matches: the build starts, loads the project and exits with nothing to run.
NOTHING = ("--select", "tag:benchmark-selects-no-node")


def dbt_round(warehouse: Path, env: dict[str, str], views: Path) -> dict[str, Timing]:
    """``dbt build`` into a new warehouse (a copy of ``views``), the build without data tests (seed,
    registry snapshots and models, as the direct side's models: ``dbt run`` alone would find no
    snapshot) into another, then an empty build."""
    shutil.copyfile(views, warehouse)
    build = run_dbt(list(PRODUCTION_BUILD), env)
    shutil.copyfile(views, warehouse)
    run = run_dbt([*PRODUCTION_BUILD, "--exclude-resource-type", "test"], env)
    return {"build": build, "run": run, "fixed": run_dbt([*PRODUCTION_BUILD, *NOTHING], env)}


def direct_round(root: Path, env: dict[str, str], manifest: dict[str, Any], views: Path) -> dict[str, Timing]:
    warehouse = root / "direct" / "warehouse.duckdb"
    warehouse.parent.mkdir(exist_ok=True)
    shutil.copyfile(views, warehouse)
    models, everything = direct_sql(warehouse, env, manifest)
    return {"direct_models": models, "direct_all": everything}


def _cpu_since(before: resource.struct_rusage) -> float:
    now = resource.getrusage(resource.RUSAGE_SELF)
    return now.ru_utime - before.ru_utime + now.ru_stime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--sensors", type=int, default=3000)
    parser.add_argument(
        "--distinct-days", type=int, default=7, help="days simulated; the others repeat them (a week)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds of both sides, interleaved (the median is reported)"
    )
    options = parser.parse_args()
    console = Console(width=120)  # the table stays readable when the output goes to a file
    days = [FIRST_DAY + timedelta(days=i) for i in range(options.days)]

    with (
        tempfile.TemporaryDirectory(prefix="bench-marts-") as tmp,
        temporary_server(Path(tmp) / "s3", "bench-admin", "bench-secret-not-for-production") as server,
    ):
        root = Path(tmp)
        store = server.store()
        store.ensure_buckets(CORE_BUCKETS)
        city = build_city(seed=options.seed, sensors=options.sensors)
        rng = np.random.default_rng(options.seed)
        settings = load_settings(
            home=root / "home",
            s3_endpoint=server.endpoint,
            s3_access_key=server.access_key,
            s3_secret_key=server.secret_key,
        )
        with console.status(f"simulating {options.days} days of {options.sensors} sensors into S3..."):
            write_registry(store, city)
            readings = sum(
                write_bronze_day(
                    store, city, day, options.seed, settings.zone, days[i % options.distinct_days]
                )
                for i, day in enumerate(days)
            )
            counts = sum(write_cctv_day(store, day, rng, settings.zone) for day in days)

        # as dagster-dbt runs dbt: structured (JSON) log lines on stdout, which Dagster reads
        env = {
            **os.environ,
            **dbt_env(settings),
            "DBT_TARGET_PATH": os.fspath(root / "target"),
            "DBT_LOG_FORMAT": "json",
        }
        # the project is parsed once per deployment (Dagster: at code location load), not per run
        run_dbt(["parse"], env)
        # the window as Dagster hands it over: the partitions [first day, day after the last)
        start, end = (
            datetime.combine(d, time(), settings.zone) for d in (days[0], days[-1] + timedelta(days=1))
        )
        run_env = {**env, **partition_window(start, end)}
        run_dbt(["compile"], run_env)  # builds write no manifest; this one has every compiled query
        manifest = json.loads((root / "target" / "manifest.json").read_text())
        # a new warehouse's one-off cost: the hook's source views, which both sides then start from
        settings.warehouse_path.unlink()
        new_warehouse = run_dbt(["run-operation", "create_bronze_views"], run_env)
        views = root / "views.duckdb"
        shutil.copyfile(settings.warehouse_path, views)

        rounds: list[dict[str, Timing]] = []
        for round_no in track(
            range(options.repeat), description="dbt and direct SQL, interleaved", console=console
        ):
            # alternate which side goes first, so a machine speeding up or slowing down favours neither
            dbt_first = round_no % 2 == 0
            timings = {} if dbt_first else direct_round(root, env, manifest, views)
            timings |= dbt_round(settings.warehouse_path, run_env, views)
            if dbt_first:
                timings |= direct_round(root, env, manifest, views)
            rounds.append(timings)
        # the nightly run: the day after the last, landed, then built alone on dbt's warehouse
        nightly_day = days[-1] + timedelta(days=1)
        write_bronze_day(store, city, nightly_day, options.seed, settings.zone, days[0])
        write_cctv_day(store, nightly_day, rng, settings.zone)
        nightly_window = partition_window(
            datetime.combine(nightly_day, time(), settings.zone),
            datetime.combine(nightly_day + timedelta(days=1), time(), settings.zone),
        )
        before_nightly = root / "before-nightly.duckdb"
        shutil.copyfile(settings.warehouse_path, before_nightly)
        nightlies = []
        for _ in range(options.repeat):
            shutil.copyfile(before_nightly, settings.warehouse_path)
            nightlies.append(run_dbt(list(PRODUCTION_BUILD), {**env, **nightly_window}))

    table = Table(
        title=f"Marts over {options.days} days, {options.sensors} sensors ({os.cpu_count()} cores), "
        f"median of {options.repeat} interleaved rounds"
    )
    table.add_column("")
    table.add_column("dbt [s]", justify="right")
    table.add_column("direct DuckDB [s]", justify="right")
    table.add_column("ratio", justify="right")
    table.add_column("ratio per round", justify="right")
    table.add_column("CPU s dbt / direct", justify="right")
    for name, dbt_name, direct_name in (
        ("models + data tests", "build", "direct_all"),
        ("models only (no data tests)", "run", "direct_models"),
    ):
        dbt_side, direct = (statistics.median(r[n].seconds for r in rounds) for n in (dbt_name, direct_name))
        cpu = (statistics.median(r[n].cpu_seconds for r in rounds) for n in (dbt_name, direct_name))
        per_round = [r[dbt_name].seconds / r[direct_name].seconds for r in rounds]
        table.add_row(
            name,
            f"{dbt_side:.1f}",
            f"{direct:.1f}",
            f"{dbt_side / direct:.2f}",
            " ".join(f"{ratio:.2f}" for ratio in per_round),
            "{:.1f} / {:.1f}".format(*cpu),
        )
    build = statistics.median(r["build"].seconds for r in rounds)
    direct_all = statistics.median(r["direct_all"].seconds for r in rounds)
    ratio = build / direct_all
    nodes = {
        t: sum(n["resource_type"] == t for n in manifest["nodes"].values())
        for t in ("seed", "snapshot", "model", "test")
    }
    console.print(
        f"bronze: {readings:,} readings, {counts:,} CCTV count rows; {nodes['model']} models, "
        f"{nodes['snapshot']} snapshots, {nodes['test']} data tests"
    )
    console.print(table)
    console.print(
        "dbt side: one `dbt build` process (or one without data tests), start to exit: Python start "
        f"and imports, loading the parsed project ({rounds[0]['build'].note}), the on-run-start hook "
        "finding the source views current, compiling with the S3 "
        "listing of each source's files, the seed, the registry snapshots, every model with its "
        "transactions, contract and incremental logic, "
        "every data test (threads as in profiles.yml)."
    )
    console.print(
        "direct side: in this already running Python, one DuckDB connection to a copy of the same "
        "warehouse with its source views (httpfs load, S3 secret, "
        "the profile's threads and timezone), the seed from its CSV, dbt's compiled SQL of every model "
        "as create table ... as, one after the other, then every data test's compiled query."
    )
    console.print(
        "load average (1 min) before->after each dbt build: "
        + ", ".join(_load(r["build"]) for r in rounds)
        + f"; {os.cpu_count()} cores"
    )
    console.print(
        f"a new warehouse: dbt's hook creates the {len(manifest['sources'])} source views once "
        f"({new_warehouse.seconds:.1f} s for `dbt run-operation create_bronze_views`, start to exit), "
        "kept by every later command while their pattern is unchanged; not in the rounds, on either side"
    )
    fixed = statistics.median(r["fixed"].seconds for r in rounds)
    per_node = (build - fixed - direct_all) / sum(nodes.values())
    floor = (direct_all + fixed) / direct_all
    console.print(
        f"dbt's fixed cost: {fixed:.1f} s for a build that selects no node (start, imports, loading the "
        f"project, exit): with no cost per node at all the ratio would be {floor:.2f}. Beyond that and "
        f"the direct SQL, dbt adds {per_node * 1000:.0f} ms per node ({sum(nodes.values())} nodes)."
    )
    city_scale = direct_all >= 60
    console.print(
        f"targets: dbt build <= 1.25x direct SQL at city scale ({ratio:.2f}x"
        + ("" if city_scale else f"; reference only: the direct SQL took {direct_all:.0f} s, under a minute")
        + f"), the nightly one-day build < 20 s ({statistics.median(n.seconds for n in nightlies):.1f} s,"
        f" median of {' '.join(f'{n.seconds:.1f}' for n in nightlies)}; load "
        f"{', '.join(_load(n) for n in nightlies)})"
    )


def _load(timing: Timing) -> str:
    return f"{timing.load[0]:.1f}->{timing.load[1]:.1f}"


if __name__ == "__main__":
    main()

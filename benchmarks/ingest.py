"""Ingestion throughput: landing JSON lines -> validated bronze parquet, against a bare parse.

Every pipeline reads the same simulated day's files from local disk in the same run, best of
``--repeat`` rounds in which the pipelines take turns (so a burst of load elsewhere on the machine
hits every side alike). Bare parses, each reading the lines into a frame of typed columns and
validating nothing:
  * DuckDB ``read_json`` with the kind's column types and ``ignore_errors`` (copes with the injected
    faults, but cannot say which line was bad or why), fetched as a polars frame;
  * polars ``read_ndjson`` of a fault-free day of the same size (polars stops at the first
    malformed line, so it cannot read the faulty files at all).
For reference only, DuckDB ``count(*)`` over ``read_json`` is timed too: it scans the lines but
materialises no column (it even counts malformed lines), so it is not a parse of the readings.
The platform side does what ``iot/bronze/readings`` does, minus S3: split lines, parse, type,
classify faults, run the Pandera contract on every typed row, de-duplicate, and write zstd parquet
for bronze and quarantine.

    .venv/bin/python benchmarks/ingest.py --sensors 500
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
from rich.console import Console
from rich.table import Table

from cityplatform.objectstore import parquet_bytes
from cityplatform.sensor_kinds import SENSOR_KINDS
from cityplatform.settings import load_settings
from citysim import build_city, build_iot_day
from ingestion.day import ingest_kinds
from ingestion.iot import LandingFile, duckdb_types

BENCH_DAY = date(2026, 11, 24)
PLATFORM = "platform: parse + contract + quarantine + parquet"
DUCKDB = "bare DuckDB read_json into typed columns, faulty files"
POLARS = "bare polars read_ndjson, fault-free files"
COUNT_ONLY = "DuckDB count(*) over read_json, no columns (reference)"
DAY_ARGS = {"seed": 42}


def best_of_interleaved(repeat: int, pipelines: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Best time of each pipeline, taking turns round by round so all see the same machine load."""
    best = dict.fromkeys(pipelines, float("inf"))
    for _ in range(repeat):
        for name, work in pipelines.items():
            start = time.perf_counter()
            work()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def write_day(objects: dict[str, bytes], root: Path) -> dict[str, list[Path]]:
    paths: dict[str, list[Path]] = {kind: [] for kind in SENSOR_KINDS}
    for key, data in sorted(objects.items()):
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        paths[key.split("/")[1]].append(path)
    return paths


def platform_ingest(paths: dict[str, list[Path]], known: list[str], tz: ZoneInfo) -> int:
    """What ``iot/bronze/readings`` runs, with local files in place of S3 objects."""
    results = ingest_kinds(
        lambda kind: [LandingFile(str(p), p.read_bytes()) for p in paths[kind]],
        lambda kind, accepted: parquet_bytes(accepted),
        day=BENCH_DAY,
        known_sensors=known,
        tz=tz,
        bytes_per_kind={
            kind: sum(p.stat().st_size for p in kind_paths) for kind, kind_paths in paths.items()
        },
    )
    parquet_bytes(pl.concat([r.quarantined for r in results.values()]))
    return sum(r.accepted.height for r in results.values())


def duckdb_bare_parse(paths: dict[str, list[Path]]) -> int:
    """Each kind's lines into typed columns, as a polars frame; unparseable lines become null rows."""
    rows = 0
    con = duckdb.connect()
    for kind, kind_paths in paths.items():
        columns = duckdb_types(SENSOR_KINDS[kind], observed_at="TIMESTAMPTZ")
        query = (
            f"select * from read_json(?, format='newline_delimited', ignore_errors=true, columns={columns})"
        )
        rows += con.execute(query, [[str(p) for p in kind_paths]]).pl().height
    return rows


def duckdb_line_count(paths: dict[str, list[Path]]) -> int:
    rows = 0
    con = duckdb.connect()
    for kind_paths in paths.values():
        files = [str(p) for p in kind_paths]
        rows += con.execute(
            "select count(*) from read_json(?, format='newline_delimited', ignore_errors=true)", [files]
        ).fetchone()[0]
    return rows


def polars_bare_parse(paths: dict[str, list[Path]]) -> int:
    return sum(pl.read_ndjson([str(p) for p in kind_paths]).height for kind_paths in paths.values())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sensors", type=int, default=500)
    parser.add_argument("--fault-rate", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    console = Console()
    tz = load_settings().zone
    city = build_city(seed=42, sensors=args.sensors)
    day = build_iot_day(city, BENCH_DAY, tz=tz, fault_rate=args.fault_rate, **DAY_ARGS)
    clean = build_iot_day(city, BENCH_DAY, tz=tz, fault_rate=0.0, **DAY_ARGS)
    lines = sum(day.truth.lines_written.values())
    known = [s.sensor_id for s in city.sensors]

    with tempfile.TemporaryDirectory() as tmp:
        faulty_paths = write_day(day.objects, Path(tmp) / "faulty")
        clean_paths = write_day(clean.objects, Path(tmp) / "clean")
        platform_ingest(faulty_paths, known, tz)  # warm-up: imports, DuckDB, regex compile
        timings = best_of_interleaved(
            args.repeat,
            {
                PLATFORM: lambda: platform_ingest(faulty_paths, known, tz),
                DUCKDB: lambda: duckdb_bare_parse(faulty_paths),
                POLARS: lambda: polars_bare_parse(clean_paths),
                COUNT_ONLY: lambda: duckdb_line_count(faulty_paths),
            },
        )

    table = Table(
        title=f"{lines:,} landing lines ({args.sensors} sensors, one day, fault rate {args.fault_rate})"
    )
    table.add_column("pipeline")
    table.add_column("seconds", justify="right")
    table.add_column("readings/s", justify="right")
    table.add_column("this / platform time", justify="right")
    platform = timings[PLATFORM]
    for name, seconds in timings.items():
        table.add_row(name, f"{seconds:.3f}", f"{lines / seconds:,.0f}", f"{seconds / platform:.2f}")
    console.print(table)
    console.print(
        f"platform {lines / platform:,.0f} readings/s; ratio to the bare parse: DuckDB "
        f"{timings[DUCKDB] / platform:.2f}, polars {timings[POLARS] / platform:.2f} "
        f"(targets: >= 300,000 readings/s and >= 0.5); to DuckDB's count-only scan "
        f"{timings[COUNT_ONLY] / platform:.2f} (reference)"
    )


if __name__ == "__main__":
    main()

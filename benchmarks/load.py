"""City-scale load: one day of 5,000 sensors at 1-minute cadence (7.2M readings) through ingestion,
with bounded memory, against the single-day 500-sensor figure.

Each side runs in its own child process, as ``iot/bronze/readings`` does minus S3 (landing files
read from local disk chunk by chunk, Pandera contract on every row, de-duplication, quarantine,
zstd bronze parquet written row group by row group), so its peak resident memory is the OS's own
accounting of that process alone (``os.wait4``'s ``ru_maxrss``), imports included. Throughput is
readings per second of the ingestion itself, timed inside the child.

The simulator delivers one reading per sensor per 5-minute slot. A 1-minute cadence is made from
its day without simulating five times over: every landing line is delivered with four more copies
observed 1 to 4 minutes later in the same slot object (``minute_cadence``), faults and all, so the
day reconciles as any other. Simulating 5,000 sensors takes about 40 s and the whole landing day
about 1.1 GB of disk.

    .venv/bin/python benchmarks/load.py                      # 5,000 sensors x 1-minute: 7.2M readings
    .venv/bin/python benchmarks/load.py --sensors 300        # a quick proof at a small size
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import polars as pl

from cityplatform.objectstore import ObjectInfo, parquet_bytes
from cityplatform.sensor_kinds import SENSOR_KINDS
from cityplatform.settings import load_settings
from citysim import build_city, build_iot_day
from ingestion.day import ParquetSink, byte_chunks, ingest_kinds
from ingestion.iot import LandingFile, bronze_schema

BENCH_DAY = date(2026, 11, 24)
BASELINE_SENSORS = 500
RSS_LIMIT_BYTES = 1 << 30
THROUGHPUT_RATIO_TARGET = 0.8
# The minute of a 5-minute slot's own readings: its last digit is 0 or 5.
_SLOT_MINUTE = re.compile(rb'("observed_at":"\d{4}-\d\d-\d\dT\d\d:\d)([05])')


def minute_cadence(data: bytes) -> bytes:
    """A slot object's lines, then the same lines observed 1, 2, 3 and 4 minutes later."""
    copies = [data]
    for k in range(1, 5):
        copies.append(_SLOT_MINUTE.sub(lambda m, k=k: m[1] + str(int(m[2]) + k).encode(), data))
    return b"".join(copies)


def land_day(sensors: int, cadence_minutes: int, fault_rate: float, root: Path) -> int:
    """Write the day's landing files under ``root`` and the registered sensor ids beside them;
    returns the number of landing lines."""
    city = build_city(seed=42, sensors=sensors)
    day = build_iot_day(city, BENCH_DAY, tz=load_settings().zone, seed=42, fault_rate=fault_rate)
    lines = 0
    for key, data in day.objects.items():
        body = minute_cadence(data) if cadence_minutes == 1 else data
        path = root / "landing" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        lines += body.count(b"\n")
    (root / "sensors.json").write_text(json.dumps([s.sensor_id for s in city.sensors]))
    return lines


def ingest_landed(root: Path) -> dict[str, object]:
    """In the child: ingest every landing file under ``root`` chunk by chunk into local bronze."""
    known = json.loads((root / "sensors.json").read_text())
    files = {
        kind: [
            ObjectInfo("local", str(p), "", p.stat().st_size)
            for p in sorted((root / "landing" / "iot" / kind).rglob("*.jsonl"))
        ]
        for kind in SENSOR_KINDS
    }
    out = root / "bronze"
    out.mkdir(exist_ok=True)
    start = time.perf_counter()
    sinks = {kind: ParquetSink(out / f"{kind}.parquet", bronze_schema(kind)) for kind in SENSOR_KINDS}
    results = ingest_kinds(
        lambda kind: (
            [LandingFile(o.key, Path(o.key).read_bytes()) for o in chunk]
            for chunk in byte_chunks(files[kind])
        ),
        lambda kind, accepted: sinks[kind].write(accepted),
        day=BENCH_DAY,
        known_sensors=known,
        tz=load_settings().zone,
        bytes_per_kind={kind: sum(o.size for o in objs) for kind, objs in files.items()},
    )
    for sink in sinks.values():
        sink.close()
    (out / "quarantine.parquet").write_bytes(
        parquet_bytes(pl.concat([r.quarantined for r in results.values()]))
    )
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "lines_in": sum(r.lines_in for r in results.values()),
        "accepted": sum(r.accepted_rows for r in results.values()),
        "quarantined": sum(r.quarantined.height for r in results.values()),
        "other_day": sum(r.other_day for r in results.values()),
        "reconciles": all(r.reconciles for r in results.values()),
    }


def measure(root: Path) -> tuple[dict[str, object], int]:
    """Ingest ``root`` in a child process: its report and its peak RSS in bytes (Linux: KiB units)."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", str(root)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    report = json.loads(child.stdout.read())
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"ingestion of {root} failed")
    return report, usage.ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sensors", type=int, default=5000)
    parser.add_argument("--cadence-minutes", type=int, choices=(1, 5), default=1)
    parser.add_argument("--fault-rate", type=float, default=0.01)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(ingest_landed(args.child)))
        return

    rows = []
    with tempfile.TemporaryDirectory(prefix="city-load-") as tmp:
        for name, sensors, cadence in (
            ("baseline", BASELINE_SENSORS, 5),
            ("city", args.sensors, args.cadence_minutes),
        ):
            root = Path(tmp) / name
            lines = land_day(sensors, cadence, args.fault_rate, root)
            report, rss = measure(root)
            if not report["reconciles"] or report["lines_in"] != lines:
                raise SystemExit(f"{name}: the day does not reconcile: {report}")
            rate = lines / report["seconds"]
            rows.append((name, sensors, cadence, lines, report, rss, rate))
            print(
                f"{name}: {sensors} sensors at {cadence}-minute cadence, {lines:,} readings: "
                f"{report['seconds']:.1f} s, {rate:,.0f} readings/s, peak RSS {rss / 2**20:,.0f} MiB "
                f"({report['accepted']:,} accepted + {report['quarantined']:,} quarantined "
                f"+ {report['other_day']:,} of another day)",
                flush=True,
            )
            shutil.rmtree(root)
    (_, _, _, _, _, _, base_rate), (_, _, _, _, _, city_rss, city_rate) = rows
    ratio = city_rate / base_rate
    print(
        f"peak RSS {city_rss / 2**20:,.0f} MiB (target < {RSS_LIMIT_BYTES / 2**20:,.0f} MiB: "
        f"{'met' if city_rss < RSS_LIMIT_BYTES else 'MISSED'}); throughput {ratio:.2f} of the "
        f"{BASELINE_SENSORS}-sensor figure (target >= {THROUGHPUT_RATIO_TARGET}: "
        f"{'met' if ratio >= THROUGHPUT_RATIO_TARGET else 'MISSED'})"
    )


if __name__ == "__main__":
    main()

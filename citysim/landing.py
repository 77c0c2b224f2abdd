"""A simulated day as landing objects: JSON-lines files per kind and 5-minute slot, plus the registry.

:func:`build_iot_day` is pure (bytes in memory, no server) for tests and benchmarks;
:func:`write_iot_day` puts the same bytes into the ``landing`` bucket. Whoever lands simulated days
on a machine records the earliest (:func:`record_landed_day`), where the daily partitions start
unless ``CITY_FIRST_DAY`` says otherwise, so the UI's fill counts only days that could have data.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path

import numpy as np

from cityplatform.layout import landing_iot_key, landing_registry_key
from cityplatform.objectstore import LANDING, ObjectStore
from cityplatform.settings import SettingsError
from citysim.city import City
from citysim.faults import FaultedKind, inject_faults
from citysim.iot import KIND_STREAMS, simulate_day
from citysim.jsonl import render_lines
from citysim.truth import ALL_EVENTS, DayTruth, EventKind, InjectedFault, LineRef

# Fault streams sit apart from the readings' streams, so a different fault rate leaves values unchanged.
FAULT_STREAM_OFFSET = 100
# The embedded server takes ~450 small PUTs/s per connection; the store's pool holds 16.
PUT_WORKERS = 16
# Under the platform's home (Settings.home_dir): the earliest day landed on this machine.
FIRST_DAY_FILE = "first-day"


@dataclass(frozen=True)
class IotDay:
    objects: dict[str, bytes]  # landing key -> JSON lines, one object per kind and 5-minute slot
    truth: DayTruth


def build_iot_day(
    city: City,
    day: date,
    *,
    tz: tzinfo,
    seed: int = 42,
    fault_rate: float = 0.01,
    events: Collection[EventKind] = ALL_EVENTS,
    storm_start: datetime | None = None,
) -> IotDay:
    """Every landing file of ``day`` with its faults, and the truth about both; deterministic.

    ``tz`` is the city's zone (``Settings.zone``): slot keys and ``observed_at`` are in its local
    time, as ingestion reads them. ``storm_start`` places the storm (:func:`citysim.events.plan_events`):
    give consecutive days the same value for a storm across midnight; ``None`` keeps each day's own.
    """
    readings = simulate_day(city, day, tz=tz, seed=seed, events=events, storm_start=storm_start)
    observed_at = [slot.isoformat() for slot in readings.slots]
    keys_by_kind = {kind: [landing_iot_key(kind, slot) for slot in readings.slots] for kind in readings.kinds}
    objects: dict[str, bytes] = {}
    faults: list[InjectedFault] = []
    lines_written: dict[str, int] = {}
    expected_accepted: dict[str, int] = {}
    for kind, kind_readings in readings.kinds.items():
        rng = np.random.default_rng([seed, day.toordinal(), FAULT_STREAM_OFFSET + KIND_STREAMS[kind]])
        lines = render_lines(kind_readings, observed_at)
        delivered = inject_faults(kind_readings, lines, observed_at, fault_rate=fault_rate, rng=rng)
        keys = keys_by_kind[kind]
        for key, file_lines in zip(keys, delivered.files, strict=True):
            objects[key] = "".join(line + "\n" for line in file_lines).encode()
        faults += _located(delivered, keys)
        lines_written[kind] = sum(len(file_lines) for file_lines in delivered.files)
        # Every faulted line carries exactly one fault, and every other line is a valid reading.
        expected_accepted[kind] = lines_written[kind] - len(delivered.faults)
    truth = DayTruth(
        day=day,
        seed=seed,
        fault_rate=fault_rate,
        events=readings.events,
        faults=tuple(sorted(faults, key=lambda f: (f.key, f.line))),
        lines_written=lines_written,
        expected_accepted=expected_accepted,
    )
    return IotDay(objects, truth)


def _located(delivered: FaultedKind, keys: list[str]) -> list[InjectedFault]:
    """Slot indices become object keys."""
    located = []
    for fault in delivered.faults:
        original = None
        if fault.duplicate_of is not None:
            slot, line = fault.duplicate_of
            original = LineRef(keys[slot], line)
        located.append(InjectedFault(keys[fault.slot], fault.line, fault.reason, fault.field, original))
    return located


def registry_objects(city: City) -> dict[str, bytes]:
    """The registry tables as CSV, one column per dataclass field, empty cell for ``None``."""
    return {
        landing_registry_key("sensors"): _csv(city.sensors),
        landing_registry_key("districts"): _csv(city.districts),
        landing_registry_key("road_segments"): _csv(city.road_segments),
        landing_registry_key("river_gauges"): _csv(city.river_gauges),
    }


def _csv(rows: Iterable[object]) -> bytes:
    rows = list(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(field.name for field in dataclasses.fields(rows[0]))
    for row in rows:
        writer.writerow("" if value is None else value for value in dataclasses.astuple(row))
    return buffer.getvalue().encode()


def write_iot_day(
    store: ObjectStore,
    city: City,
    day: date,
    *,
    tz: tzinfo,
    seed: int = 42,
    fault_rate: float = 0.01,
    events: Collection[EventKind] = ALL_EVENTS,
    storm_start: datetime | None = None,
) -> DayTruth:
    """Put the registry, then the day's files, into ``landing``; return the day's truth.

    The registry goes first so that a reader triggered by the first readings can resolve sensors.
    """
    for key, data in registry_objects(city).items():
        store.put_bytes(LANDING, key, data, content_type="text/csv")
    day_objects = build_iot_day(
        city, day, tz=tz, seed=seed, fault_rate=fault_rate, events=events, storm_start=storm_start
    )
    with ThreadPoolExecutor(max_workers=PUT_WORKERS) as pool:
        puts = [
            pool.submit(store.put_bytes, LANDING, key, data, "application/x-ndjson")
            for key, data in day_objects.objects.items()
        ]
        for put in puts:
            put.result()
    return day_objects.truth


def record_landed_day(home: Path, day: date) -> None:
    """Remember ``day`` as the first day landed under ``home`` when it is earlier than the one kept."""
    recorded = first_landed_day(home)
    if recorded is None or day < recorded:
        home.mkdir(parents=True, exist_ok=True)
        (home / FIRST_DAY_FILE).write_text(f"{day.isoformat()}\n")


def first_landed_day(home: Path) -> date | None:
    """The earliest day landed under ``home`` (:func:`record_landed_day`); ``None`` when none was.

    A local file read, cheap enough for the code location to call when it loads.
    """
    path = home / FIRST_DAY_FILE
    if not path.is_file():
        return None
    text = path.read_text().strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise SettingsError(
            f"{path}: expected the first landed day as YYYY-MM-DD, got {text!r} (fix or delete it)"
        ) from None

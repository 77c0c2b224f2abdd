"""Incremental ingestion against the real S3 server: a day delivered slot by slot, each delivery
ingesting only its new objects, ends exactly as one full ingestion of the day (bronze, quarantine,
counts), with at most 1.2x the day's lines parsed in all; a changed object, or a full re-run,
replaces the day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from cityplatform.layout import bronze_readings_key, quarantine_readings_key
from cityplatform.objectstore import BRONZE, LANDING, QUARANTINE, ObjectStore, read_parquet
from cityplatform.sensor_kinds import SENSOR_KINDS
from citysim import build_city, build_iot_day
from ingestion.day import DayIngest, ingest_manifest
from ingestion.landing import LandingManifest, ingested_days

SEOUL = ZoneInfo("Asia/Seoul")
DAY = date(2031, 5, 20)  # this module's own day on the shared server
SLOT_BY_SLOT_UNTIL = datetime(2031, 5, 20, 1, 0, tzinfo=SEOUL)  # then one batch, then slot by slot again
BATCH_UNTIL = datetime(2031, 5, 20, 23, 0, tzinfo=SEOUL)


def read_day(store: ObjectStore) -> tuple[list[pl.DataFrame], pl.DataFrame]:
    bronze = [read_parquet(store, BRONZE, bronze_readings_key(kind, DAY)) for kind in SENSOR_KINDS]
    return bronze, read_parquet(store, QUARANTINE, quarantine_readings_key(DAY))


def same_day(a: tuple[list[pl.DataFrame], pl.DataFrame], b: tuple[list[pl.DataFrame], pl.DataFrame]) -> bool:
    return all(x.equals(y) for x, y in zip(a[0], b[0], strict=True)) and a[1].equals(b[1])


@pytest.fixture(scope="module")
def deliveries() -> tuple[list[dict[str, bytes]], list[str]]:
    """DAY's landing objects (and the next day's that carry its late readings) grouped into the
    deliveries the sensor would see: slot by slot, except one batch for most of the day."""
    city = build_city(seed=11, sensors=20)
    objects: dict[str, bytes] = {}
    for day in (DAY, DAY + timedelta(days=1)):
        objects |= {
            k: v
            for k, v in build_iot_day(city, day, tz=SEOUL, seed=4, fault_rate=0.05).objects.items()
            if DAY in ingested_days(k, SEOUL)
        }
    by_slot: dict[str, dict[str, bytes]] = {}
    for key in sorted(objects):
        by_slot.setdefault(key.rsplit("_", 1)[1], {})[key] = objects[key]
    groups: list[dict[str, bytes]] = []
    batch: dict[str, bytes] = {}
    for stamp, slot_objects in sorted(by_slot.items(), key=lambda item: item[0]):
        at = datetime.strptime(stamp, "%Y%m%dT%H%M.jsonl").replace(tzinfo=SEOUL)
        if SLOT_BY_SLOT_UNTIL <= at < BATCH_UNTIL:
            batch |= slot_objects
            continue
        if batch:
            groups.append(batch)
            batch = {}
        groups.append(slot_objects)
    return groups, [s.sensor_id for s in city.sensors]


def ingest(store: ObjectStore, known: list[str], *, incremental: bool) -> DayIngest:
    manifest = LandingManifest.from_listing(store, DAY, SEOUL)
    return ingest_manifest(store, manifest, known_sensors=known, tz=SEOUL, incremental=incremental)


def test_deliveries_ingest_only_their_objects_and_end_as_a_full_ingestion(
    store: ObjectStore, deliveries
) -> None:
    groups, known = deliveries
    parsed = 0
    for group in groups:
        for key, data in group.items():
            store.put_bytes(LANDING, key, data)
        run = ingest(store, known, incremental=True)
        parsed += run.lines_parsed
        assert run.reconciles
    incremental = read_day(store)
    day_lines = run.lines_in
    print(f"{len(groups)} deliveries: {parsed} lines parsed, day of {day_lines} ({parsed / day_lines:.2f}x)")
    assert parsed <= 1.2 * day_lines
    assert run.reasons.get("duplicate", 0) > 0 and run.other_day > 0

    full = ingest(store, known, incremental=False)  # a re-run replaces the day, parsing it all
    assert full.lines_parsed == full.lines_in == day_lines
    assert (full.accepted, full.quarantined, full.reasons) == (run.accepted, run.quarantined, run.reasons)
    assert same_day(read_day(store), incremental)

    # An object changed after it was ingested: the state no longer describes the landing, so the
    # day is ingested whole again, with the changed object's lines.
    first_key = sorted(groups[0])[0]
    store.put_bytes(LANDING, first_key, groups[0][first_key] + groups[0][first_key])
    changed = ingest(store, known, incremental=True)
    assert changed.lines_parsed == changed.lines_in > day_lines
    again = ingest(store, known, incremental=False)
    assert (again.accepted, again.quarantined) == (changed.accepted, changed.quarantined)

"""A day's bronze publication against the real S3 server: readers follow it, a new one removes the
generations it replaced and a killed run's leftovers, never a generation still being written, and an
incremental delivery republishes keeping the files of kinds with nothing new."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cityplatform.layout import bronze_readings_folder, bronze_readings_key, generation_of, landing_iot_key
from cityplatform.objectstore import BRONZE, LANDING, ObjectStore
from cityplatform.sensor_kinds import SENSOR_KINDS
from ingestion.day import ingest_manifest
from ingestion.landing import LandingManifest
from ingestion.publication import load_publication
from tests.conftest import published

SEOUL = ZoneInfo("Asia/Seoul")
DAY = date(2031, 7, 2)  # this module's own day on the shared server
KNOWN = ["AQ-0001", "NS-0001"]


def deliver(store: ObjectStore, kind: str, at: datetime, sensor: str, measures: dict[str, float]) -> None:
    line = {"sensor_id": sensor, "kind": kind, "observed_at": at.isoformat(), **measures}
    store.put_bytes(LANDING, landing_iot_key(kind, at), (json.dumps(line) + "\n").encode())


def ingest(store: ObjectStore, *, incremental: bool = False) -> None:
    manifest = LandingManifest.from_listing(store, DAY, SEOUL)
    ingest_manifest(store, manifest, known_sensors=KNOWN, tz=SEOUL, incremental=incremental)


def generations(store: ObjectStore, kind: str) -> set[str | None]:
    return {generation_of(o.key) for o in store.list_objects(BRONZE, bronze_readings_folder(kind, DAY))}


def test_publications_replace_generations_and_leave_a_later_one_alone(store: ObjectStore) -> None:
    at = datetime(2031, 7, 2, 8, 0, tzinfo=SEOUL)
    assert load_publication(store, DAY) is None
    deliver(store, "air_quality", at, "AQ-0001", {"pm10": 40.0, "pm25": 20.0, "no2": 0.02, "o3": 0.03})
    deliver(store, "noise", at, "NS-0001", {"laeq_db": 55.0, "lamax_db": 70.0})
    ingest(store)
    first = published(store, DAY)
    assert {kind: first.files[kind].rows for kind in ("air_quality", "noise")} == {
        "air_quality": 1,
        "noise": 1,
    }
    assert first.read_bronze(store, "noise")["sensor_id"].to_list() == ["NS-0001"]

    # a killed run's file (an older generation no publication names) and a run still writing (a later one)
    killed, writing = "20000101T000000000000Z-000000", "99991231T000000000000Z-ffffff"
    for generation in (killed, writing):
        key = bronze_readings_key("noise", DAY, generation)
        store.put_bytes(BRONZE, key, b"not yet a whole parquet")

    # a new delivery of air quality only, ingested incrementally: noise keeps its published file
    deliver(
        store,
        "air_quality",
        at + timedelta(minutes=5),
        "AQ-0001",
        {"pm10": 41.0, "pm25": 21.0, "no2": 0.02, "o3": 0.03},
    )
    ingest(store, incremental=True)
    second = published(store, DAY)
    assert second.generation > first.generation
    assert second.files["air_quality"].rows == 2
    assert second.bronze_key("noise") == first.bronze_key("noise")
    assert generations(store, "air_quality") == {second.generation}
    assert generations(store, "noise") == {first.generation, writing}

    # a full re-run replaces every kind's file; the later generation is still left alone
    ingest(store)
    third = published(store, DAY)
    assert all(generation_of(third.bronze_key(kind)) == third.generation for kind in SENSOR_KINDS)
    assert generations(store, "noise") == {third.generation, writing}
    assert third.read_bronze(store, "air_quality").height == 2

"""A corpus of hostile IoT landing input, landed on the real S3 server and ingested as one day by the
real ingestion (manifest, fetch, parse, quarantine, parquet written back): every case is answered
with its reason, the good lines around each one are accepted, and the day reconciles.

Line cases land one per object, between two good lines; object cases are whole objects the platform
cannot place (no slot in the name, a slot outside its folder, a folder that is no sensor kind).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from cityplatform.layout import bronze_readings_key, landing_iot_key, quarantine_readings_key
from cityplatform.objectstore import BRONZE, LANDING, QUARANTINE, ObjectStore, read_parquet
from ingestion.day import DayIngest, ingest_manifest
from ingestion.iot import MAX_JSON_DEPTH, MAX_LINE_CHARS
from ingestion.landing import LandingManifest

SEOUL = ZoneInfo("Asia/Seoul")
DAY = date(2031, 3, 14)  # this module's own day on the shared server
FIRST_SLOT = datetime(2031, 3, 14, 8, 0, tzinfo=SEOUL)
SLOT = timedelta(minutes=5)
KNOWN = [f"{prefix}-{i:04d}" for prefix in ("AQ", "TL") for i in range(1, 10)]
MEASURES = {
    "air_quality": {"pm10": 40.5, "pm25": 20.0, "no2": 0.02, "o3": 0.03},
    "traffic": {"vehicle_count": 12, "mean_speed_kmh": 40.0, "occupancy_pct": 10.5},
}
PREFIX = {"air_quality": "AQ", "traffic": "TL"}


def reading(kind: str, sensor: int, at: datetime | str, **values: object) -> dict[str, object]:
    stamp = at if isinstance(at, str) else at.isoformat()
    record = {"sensor_id": f"{PREFIX[kind]}-{sensor:04d}", "kind": kind, "observed_at": stamp}
    return record | MEASURES[kind] | values


def line(kind: str, at: datetime | str, **values: object) -> str:
    """A reading of sensor 2 (the good lines around it are sensors 1 and 3) with ``values`` set."""
    return json.dumps(reading(kind, 2, at, **values))


def with_raw(kind: str, at: datetime, raw: str) -> str:
    """A reading of sensor 2 with raw JSON text appended before its closing brace."""
    return json.dumps(reading(kind, 2, at))[:-1] + ", " + raw + "}"


def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


@dataclass(frozen=True)
class LineCase:
    """One hostile line: ``make(kind, slot start)`` writes it; it must be quarantined as ``reason``
    with ``detail`` in its detail."""

    name: str
    kind: str
    make: Callable[[str, datetime], str]
    reason: str
    detail: str


LINE_CASES = [
    # Implausible times: after the delivery slot beyond the skew allowed, or not even representable.
    LineCase(
        "observed_a_week_after_its_slot",
        "air_quality",
        lambda k, at: line(k, at + timedelta(days=7)),
        "implausible_time",
        "10080 min after",
    ),
    LineCase(
        "observed_15_min_after_its_slot",
        "air_quality",
        lambda k, at: line(k, at + timedelta(minutes=15)),
        "implausible_time",
        "15 min after",
    ),
    LineCase(
        "observed_in_year_9999",
        "air_quality",
        lambda k, at: line(k, datetime(9999, 12, 31, 23, 59, tzinfo=SEOUL)),
        "implausible_time",
        "observed_at 9999-12-31",
    ),
    LineCase(
        "year_9999_beyond_utc",
        "air_quality",
        lambda k, at: line(k, "9999-12-31T23:59:59.5-14:00"),
        "implausible_time",
        "outside years",
    ),
    LineCase(
        "year_1_before_utc",
        "air_quality",
        lambda k, at: line(k, "0001-01-01T00:00:00.5+01:00"),
        "implausible_time",
        "outside years",
    ),
    # Duplicate keys, caught in the parse whatever the fast path would have kept.
    LineCase(
        "repeated_measure",
        "air_quality",
        lambda k, at: with_raw(k, at, '"pm10": -3'),
        "duplicate_key",
        "'pm10'",
    ),
    LineCase(
        "two_sensor_ids",
        "air_quality",
        lambda k, at: with_raw(k, at, '"sensor_id": "AQ-0009"'),
        "duplicate_key",
        "'sensor_id'",
    ),
    LineCase(
        "repeated_key_spaced_before_colon",
        "air_quality",
        lambda k, at: with_raw(k, at, '"kind" : "air_quality"'),
        "duplicate_key",
        "'kind'",
    ),
    LineCase(
        "repeated_key_in_a_nested_object",
        "air_quality",
        lambda k, at: with_raw(k, at, '"meta": {"fw": 1, "fw": 2}'),
        "duplicate_key",
        "'fw'",
    ),
    LineCase(
        "repeated_key_escaped",
        "air_quality",
        lambda k, at: with_raw(k, at, '"pm\\u00310": 5'),
        "duplicate_key",
        "'pm10'",
    ),
    # Numbers beyond their column's type.
    LineCase(
        "count_beyond_int64",
        "traffic",
        lambda k, at: line(k, at, vehicle_count=2**63),
        "out_of_type_range",
        "vehicle_count",
    ),
    LineCase(
        "count_below_int64",
        "traffic",
        lambda k, at: line(k, at, vehicle_count=-(2**63) - 1),
        "out_of_type_range",
        "Int64",
    ),
    LineCase(
        "count_of_5000_digits",
        "traffic",
        lambda k, at: with_raw(k, at, '"vehicle_count": ' + "9" * 5000).replace('"vehicle_count": 12, ', ""),
        "out_of_type_range",
        "5000 digits",
    ),
    LineCase(
        "float_overflowing_to_inf",
        "air_quality",
        lambda k, at: with_raw(k, at, '"o3": 1e999').replace('"o3": 0.03, ', ""),
        "out_of_type_range",
        "o3",
    ),
    LineCase(
        "float_overflowing_to_minus_inf",
        "traffic",
        lambda k, at: with_raw(k, at, '"mean_speed_kmh": -1e999').replace('"mean_speed_kmh": 40.0, ', ""),
        "out_of_type_range",
        "mean_speed_kmh",
    ),
    LineCase(
        "integer_beyond_float64",
        "air_quality",
        lambda k, at: line(k, at, pm25=10**400),
        "out_of_type_range",
        "Float64",
    ),
    LineCase(
        "nan_literal",
        "air_quality",
        lambda k, at: with_raw(k, at, '"no2": NaN').replace('"no2": 0.02, ', ""),
        "malformed_json",
        "NaN",
    ),
    # Nesting and length beyond the limits, which would make a parser recurse or churn.
    LineCase("array_nested_1000_deep", "air_quality", lambda k, at: nested(1000), "too_deep", "1000 deep"),
    LineCase(
        "measure_nested_100_deep",
        "air_quality",
        lambda k, at: line(k, at)[:-1] + ', "extra": ' + nested(100) + "}",
        "too_deep",
        "101 deep",
    ),
    LineCase(
        "objects_nested_500_deep",
        "traffic",
        lambda k, at: '{"a": ' * 500 + "1" + "}" * 500,
        "too_deep",
        "500 deep",
    ),
    LineCase(
        "line_of_100k_characters",
        "air_quality",
        lambda k, at: line(k, at, note="x" * 100_000),
        "line_too_long",
        f"limit {MAX_LINE_CHARS}",
    ),
    LineCase(
        "nested_200k_deep_and_long", "traffic", lambda k, at: nested(100_000), "line_too_long", "characters"
    ),
]


@dataclass(frozen=True)
class ObjectCase:
    """A landing object the platform cannot place: every one of its lines is quarantined."""

    name: str
    key: str
    reason: str
    detail: str
    body_kind: str = "air_quality"  # readings that would pass, were the object placed


OBJECT_CASES = [
    ObjectCase(
        "key_without_slot",
        f"iot/air_quality/date={DAY}/air_quality_latest.jsonl",
        "unknown_slot",
        "no delivery slot",
    ),
    ObjectCase(
        "slot_outside_its_folder",
        f"iot/traffic/date={DAY}/traffic_20310401T0000.jsonl",
        "unknown_slot",
        "slot 2031-04-01 00:00",
        "traffic",
    ),
    ObjectCase(
        "unknown_sensor_kind_folder",
        f"iot/humidity/date={DAY}/humidity_20310314T0800.jsonl",
        "unknown_kind",
        "landing/iot/humidity/ is no sensor kind",
    ),
]

CASES = [c.name for c in LINE_CASES] + [c.name for c in OBJECT_CASES]
GOOD_VARIANT_LINES = 3  # lines accepted beyond the two around each hostile line


@dataclass
class Landed:
    ingest: DayIngest
    keys: dict[str, str]  # case -> landing key
    good: set[tuple[str, int]]  # (key, line) of every good line
    quarantine: pl.DataFrame  # read back from S3
    bronze: pl.DataFrame  # every kind's, read back from S3


def land(store: ObjectStore) -> tuple[dict[str, str], set[tuple[str, int]]]:
    keys: dict[str, str] = {}
    good: set[tuple[str, int]] = set()
    for index, case in enumerate(LINE_CASES):
        at = FIRST_SLOT + index * SLOT
        key = landing_iot_key(case.kind, at)
        lines = [
            json.dumps(reading(case.kind, 1, at)),
            case.make(case.kind, at),
            json.dumps(reading(case.kind, 3, at)),
        ]
        store.put_bytes(LANDING, key, "\n".join(lines).encode() + b"\n")
        keys[case.name] = key
        good |= {(key, 1), (key, 3)}
    # Lines near the limits that must not be refused: 5 minutes after the slot (within the skew),
    # brackets and colons inside a string, a key spaced before its colon.
    at = FIRST_SLOT - SLOT
    variants = [
        json.dumps(reading("air_quality", 4, at + timedelta(minutes=5))),
        json.dumps(reading("air_quality", 5, at) | {"note": "[" * (MAX_JSON_DEPTH * 4) + ":::"}),
        json.dumps(reading("air_quality", 6, at)).replace('"pm10":', '"pm10" :'),
    ]
    variant_key = landing_iot_key("air_quality", at)
    store.put_bytes(LANDING, variant_key, "\n".join(variants).encode() + b"\n")
    good |= {(variant_key, n) for n in range(1, GOOD_VARIANT_LINES + 1)}
    for case in OBJECT_CASES:
        body = [json.dumps(reading(case.body_kind, sensor, FIRST_SLOT)) for sensor in (7, 8)]
        store.put_bytes(LANDING, case.key, "\n".join(body).encode() + b"\n")
        keys[case.name] = case.key
    return keys, good


@pytest.fixture(scope="module")
def landed(store: ObjectStore) -> Landed:
    keys, good = land(store)
    manifest = LandingManifest.from_listing(store, DAY, SEOUL)
    ingest = ingest_manifest(store, manifest, known_sensors=KNOWN, tz=SEOUL)
    quarantine = read_parquet(store, QUARANTINE, quarantine_readings_key(DAY))
    bronze = pl.concat(
        [
            read_parquet(store, BRONZE, bronze_readings_key(k, DAY)).select("source_file", "line_no")
            for k in MEASURES
        ]
    )
    return Landed(ingest, keys, good, quarantine, bronze)


def answer(landed: Landed, case: str) -> pl.DataFrame:
    return landed.quarantine.filter(pl.col("source_file") == landed.keys[case])


@pytest.mark.parametrize("case", LINE_CASES, ids=lambda c: c.name)
def test_each_hostile_line_is_quarantined_with_its_reason(landed: Landed, case: LineCase) -> None:
    rows = answer(landed, case.name).rows(named=True)
    assert [(r["line_no"], r["reason"]) for r in rows] == [(2, case.reason)]
    assert case.detail in rows[0]["detail"]
    assert len(rows[0]["raw_line"]) <= MAX_LINE_CHARS


@pytest.mark.parametrize("case", OBJECT_CASES, ids=lambda c: c.name)
def test_each_unplaceable_object_is_quarantined_whole(landed: Landed, case: ObjectCase) -> None:
    rows = answer(landed, case.name)
    assert rows.select("line_no", "reason").rows() == [(1, case.reason), (2, case.reason)]
    assert all(case.detail in d for d in rows["detail"])


def test_every_case_answered_good_lines_accepted_and_the_day_reconciles(landed: Landed) -> None:
    answered = [c.name for c in LINE_CASES if answer(landed, c.name)["reason"].to_list() == [c.reason]]
    answered += [c.name for c in OBJECT_CASES if set(answer(landed, c.name)["reason"]) == {c.reason}]
    print(f"hostile IoT corpus: {len(answered)} of {len(CASES)} cases answered")
    assert answered == CASES

    ingest = landed.ingest
    assert set(landed.bronze.iter_rows()) == landed.good
    assert ingest.reconciles and ingest.other_day == 0
    assert ingest.lines_in == ingest.accepted + ingest.quarantined
    assert ingest.lines_in == 3 * len(LINE_CASES) + GOOD_VARIANT_LINES + 2 * len(OBJECT_CASES)
    assert (landed.bronze.height, landed.quarantine.height) == (ingest.accepted, ingest.quarantined)


def test_an_unknown_kind_folder_is_in_the_manifest_and_reported(landed: Landed) -> None:
    humidity = landed.ingest.results["humidity"]
    assert (humidity.lines_in, humidity.accepted_rows, humidity.reasons) == (2, 0, {"unknown_kind": 2})
    assert landed.ingest.reasons["unknown_kind"] == 2

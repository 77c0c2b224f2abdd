"""Unit tests of the IoT line classifier and splitter: no server, hand-written landing files."""

from __future__ import annotations

import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from governance.contracts.iot import validate_readings
from ingestion.iot import IngestResult, LandingFile, bronze_schema, ingest_kind

SEOUL = ZoneInfo("Asia/Seoul")
DAY = date(2026, 11, 24)
KEY_0800 = "iot/air_quality/date=2026-11-24/air_quality_20261124T0800.jsonl"
KEY_1000 = "iot/air_quality/date=2026-11-24/air_quality_20261124T1000.jsonl"
KNOWN = [f"AQ-{i:04d}" for i in range(1, 20)]


def line(sensor: str = "AQ-0001", at: str = "2026-11-24T08:00:00+09:00", **values: object) -> str:
    record = {"sensor_id": sensor, "kind": "air_quality", "observed_at": at}
    record |= {"pm10": 40.5, "pm25": 20.0, "no2": 0.02, "o3": 0.03} | values
    return json.dumps(record)


def ingest(*files: tuple[str, list[str]], day: date = DAY) -> IngestResult:
    landing = [LandingFile(key, ("\n".join(lines) + "\n").encode()) for key, lines in files]
    return ingest_kind("air_quality", landing, day=day, known_sensors=KNOWN, tz=SEOUL)


@pytest.mark.parametrize(
    ("bad_line", "reason", "detail"),
    [
        ('{"sensor_id": "AQ-0002", "kind": "air_q', "malformed_json", "not JSON"),
        # shaped like an object, malformed inside: DuckDB refuses the batch, which is parsed again
        ('{"sensor_id": "AQ-0002" "kind": "air_quality"}', "malformed_json", "not JSON"),
        ("{'sensor_id': 'AQ-0002'}", "malformed_json", "not JSON"),
        ("[1, 2]", "malformed_json", "not an object"),
        ("", "malformed_json", "not JSON"),
        (line("AQ-0002", pm10=None), "missing_field", "missing pm10"),
        (json.dumps({"sensor_id": "AQ-0002", "kind": "air_quality"}), "missing_field", "observed_at"),
        (line("AQ-0002", pm10="high"), "wrong_type", "pm10='high'"),
        (line("AQ-0002", pm10="12.5"), "wrong_type", "pm10='12.5'"),
        (line("AQ-0002", pm10=True), "wrong_type", "pm10=True"),
        (line("AQ-0002", no2=[1]), "wrong_type", "no2=[1]"),
        (line(12, pm10=1.0), "wrong_type", "sensor_id=12"),
        (line("AQ-0002", at="2026-11-24T08:00:00"), "wrong_type", "no UTC offset"),
        (line("AQ-0002", at="yesterday"), "wrong_type", "not ISO 8601"),
        (line("AQ-0002", pm10=4000.0), "out_of_range", "pm10"),
        (line("AQ-0002", o3=-0.1), "out_of_range", "o3"),
        (line("NS-0002"), "unknown_sensor", "sensor_id"),
        (line("AQ-9999"), "unknown_sensor", "not in the registry"),
    ],
)
def test_each_fault_is_quarantined_with_its_reason(bad_line: str, reason: str, detail: str) -> None:
    result = ingest((KEY_0800, [line("AQ-0001"), bad_line, line("AQ-0003")]))
    assert result.reconciles
    assert result.accepted["sensor_id"].to_list() == ["AQ-0001", "AQ-0003"]
    row = result.quarantined.row(0, named=True)
    assert (row["source_file"], row["line_no"], row["reason"]) == (KEY_0800, 2, reason)
    assert detail in row["detail"]
    assert row["raw_line"] == bad_line


def test_crlf_line_ends_are_line_ends() -> None:
    lines = [line("AQ-0001"), "not json", line("AQ-0003")]
    lf = ingest((KEY_0800, lines))
    crlf = ingest_kind(
        "air_quality",
        [LandingFile(KEY_0800, ("\r\n".join(lines) + "\r\n").encode())],
        day=DAY,
        known_sensors=KNOWN,
        tz=SEOUL,
    )
    assert crlf.accepted.equals(lf.accepted)
    assert crlf.quarantined.equals(lf.quarantined)
    assert crlf.quarantined["raw_line"].to_list() == ["not json"]


def test_duplicates_keep_the_first_delivery_across_files() -> None:
    original = line("AQ-0004", at="2026-11-24T09:55:00+09:00")
    result = ingest((KEY_0800, [line("AQ-0001")]), (KEY_1000, [original, original]))
    assert result.quarantined.select("source_file", "line_no", "reason").rows() == [
        (KEY_1000, 2, "duplicate")
    ]
    assert f"{KEY_1000}:1" in result.quarantined["detail"][0]
    assert result.accepted.height == 2


def test_late_arrival_beyond_an_hour_is_quarantined_but_within_is_kept() -> None:
    result = ingest(
        (
            KEY_1000,
            [
                line("AQ-0001", at="2026-11-24T08:55:00+09:00"),
                line("AQ-0002", at="2026-11-24T09:00:00+09:00"),
            ],
        )
    )
    assert result.accepted["sensor_id"].to_list() == ["AQ-0002"]
    assert result.quarantined["reason"].to_list() == ["late_arrival"]
    assert "65 min late" in result.quarantined["detail"][0]


def test_a_reading_after_its_slot_beyond_the_skew_is_an_implausible_time() -> None:
    result = ingest(
        (
            KEY_0800,
            [
                line("AQ-0001", at="2026-11-24T08:10:00+09:00"),  # the slot's 5 minutes + 5 of skew
                line("AQ-0002", at="2026-11-24T08:11:00+09:00"),
            ],
        )
    )
    assert result.accepted["sensor_id"].to_list() == ["AQ-0001"]
    assert result.quarantined["reason"].to_list() == ["implausible_time"]
    assert "observed_at 2026-11-23 23:11:00" in result.quarantined["detail"][0]


def test_both_instants_of_a_repeated_local_slot_are_on_time() -> None:
    """When clocks go back, a slot's name reads as two instants: its readings may be of either."""
    berlin = ZoneInfo("Europe/Berlin")
    key = "iot/air_quality/date=2026-10-25/air_quality_20261025T0230.jsonl"
    first, second = "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00"
    data = f"{line('AQ-0001', at=first)}\n{line('AQ-0002', at=second)}\n".encode()
    result = ingest_kind(
        "air_quality", [LandingFile(key, data)], day=date(2026, 10, 25), known_sensors=KNOWN, tz=berlin
    )
    assert result.accepted["sensor_id"].to_list() == ["AQ-0001", "AQ-0002"]


def test_accepted_rows_are_typed_utc_and_pass_the_contract() -> None:
    result = ingest((KEY_0800, [line("AQ-0001"), line("AQ-0002", pm10=3)]))
    assert dict(result.accepted.schema) == bronze_schema("air_quality")
    assert result.accepted["observed_at"][0].isoformat() == "2026-11-23T23:00:00+00:00"
    assert result.accepted["pm10"].to_list() == [40.5, 3.0]
    validate_readings("air_quality", result.accepted)


def test_integers_must_be_integers() -> None:
    base = {"sensor_id": "TL-0001", "kind": "traffic", "observed_at": "2026-11-24T08:00:00+09:00"}
    good = json.dumps(base | {"vehicle_count": 12, "mean_speed_kmh": 40, "occupancy_pct": 10.5})
    bad = json.dumps(base | {"vehicle_count": 12.5, "mean_speed_kmh": 40, "occupancy_pct": 10.5})
    key = "iot/traffic/date=2026-11-24/traffic_20261124T0800.jsonl"
    result = ingest_kind(
        "traffic",
        [LandingFile(key, f"{good}\n{bad}\n".encode())],
        day=DAY,
        known_sensors=["TL-0001"],
        tz=SEOUL,
    )
    assert result.accepted["vehicle_count"].dtype == pl.Int64
    assert result.quarantined["detail"].to_list() == ["vehicle_count=12.5 is not an integer"]


def test_no_files_gives_an_empty_reconciled_result() -> None:
    result = ingest_kind("noise", [], day=DAY, known_sensors=[], tz=SEOUL)
    assert (result.lines_in, result.accepted.height, result.quarantined.height) == (0, 0, 0)
    assert result.reconciles


def test_a_late_reading_belongs_to_the_day_it_was_observed_in_exactly_one_day() -> None:
    """The next day's first slots carry the day's late readings: each line is accepted or
    quarantined in one of the two days' ingestions, and counted as the other day's in the other."""
    next_day = DAY + timedelta(days=1)
    last_slot = "iot/air_quality/date=2026-11-24/air_quality_20261124T2355.jsonl"
    first_slot = "iot/air_quality/date=2026-11-24/air_quality_20261124T0005.jsonl"
    early_next = "iot/air_quality/date=2026-11-25/air_quality_20261125T0010.jsonl"
    files = {
        first_slot: [
            line("AQ-0001", at="2026-11-23T23:58:00+09:00"),
            line("AQ-0002", at="2026-11-24T00:05:00+09:00"),
        ],
        last_slot: [line("AQ-0003", at="2026-11-24T23:55:00+09:00")],
        early_next: [
            line("AQ-0004", at="2026-11-24T23:55:00+09:00"),  # 15 minutes late: the day's reading
            line("AQ-0005", at="2026-11-25T00:10:00+09:00"),  # the next day's own
            "not json",  # no time to read: stays with its slot's day
            line("AQ-0006", at="2026-11-24T22:00:00+09:00"),  # 130 minutes late: the day's quarantine
        ],
    }
    today = ingest(*files.items())
    tomorrow = ingest((early_next, files[early_next]), day=next_day)
    assert today.accepted["sensor_id"].to_list() == ["AQ-0002", "AQ-0003", "AQ-0004"]
    assert today.quarantined.select("source_file", "line_no", "reason").rows() == [
        (early_next, 4, "late_arrival")
    ]
    assert today.other_day == 3  # the day before's AQ-0001, the next day's AQ-0005 and broken line
    assert tomorrow.accepted["sensor_id"].to_list() == ["AQ-0005"]
    assert tomorrow.quarantined["reason"].to_list() == ["malformed_json"]
    assert tomorrow.other_day == 2
    assert today.reconciles and tomorrow.reconciles

    def placed(result: IngestResult) -> set[tuple[str, int]]:
        frames = (result.accepted, result.quarantined)
        return {row for frame in frames for row in frame.select("source_file", "line_no").iter_rows()}

    next_day_lines = {(early_next, n) for n in range(1, 5)}
    assert placed(today) & placed(tomorrow) == set()
    assert next_day_lines <= placed(today) | placed(tomorrow)

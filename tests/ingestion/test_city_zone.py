"""The city's zone comes from the settings alone, so the simulator's landing files and ingestion
agree on local time whatever ``CITY_TIMEZONE`` says; in process, no server."""

from __future__ import annotations

from collections import Counter
from datetime import date, tzinfo
from zoneinfo import ZoneInfo

import pytest

from cityplatform.layout import landing_iot_prefix
from cityplatform.settings import load_settings
from citysim import City, DayTruth, build_city, build_iot_day
from ingestion.day import KindIngest, ingest_kinds
from ingestion.iot import LandingFile

DAY = date(2026, 11, 24)  # no clock change in either zone
KINDS = ("noise", "air_quality")  # the other kinds are ingested as empty days, to stay fast

Outcome = dict[str, tuple[int, dict[str, int]]]  # kind -> (accepted, quarantined by reason)


@pytest.fixture(scope="module")
def city() -> City:
    return build_city(seed=5, sensors=20)


def simulate_and_ingest(city: City, landed_in: tzinfo, read_in: tzinfo) -> tuple[DayTruth, Outcome]:
    """A simulated day written in one zone and read in another (the same one, unless testing the bug)."""
    day = build_iot_day(city, DAY, tz=landed_in, seed=5, fault_rate=0.02)
    files = {
        kind: [
            LandingFile(k, data)
            for k, data in day.objects.items()
            if k.startswith(landing_iot_prefix(kind, DAY))
        ]
        for kind in KINDS
    }
    results: dict[str, KindIngest] = ingest_kinds(
        lambda kind: [files.get(kind, [])],
        lambda kind, accepted: None,
        day=DAY,
        known_sensors=[s.sensor_id for s in city.sensors],
        tz=read_in,
        bytes_per_kind={},
    )
    assert all(r.reconciles for r in results.values())
    return day.truth, {kind: (results[kind].accepted_rows, results[kind].reasons) for kind in KINDS}


def expected(truth: DayTruth) -> Outcome:
    """What the simulator broke on purpose, and nothing else, is quarantined."""
    return {
        kind: (
            truth.expected_accepted[kind],
            dict(
                sorted(
                    Counter(f.reason.value for f in truth.faults if f.key.startswith(f"iot/{kind}/")).items()
                )
            ),
        )
        for kind in KINDS
    }


def test_a_simulated_day_ingests_alike_in_any_city_zone(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes = {}
    for zone in ("Asia/Seoul", "Europe/Berlin"):
        monkeypatch.setenv("CITY_TIMEZONE", zone)
        tz = load_settings().zone  # one zone for both sides, as the demo, CLI and assets pass it
        truth, outcomes[zone] = simulate_and_ingest(city, tz, tz)
        assert outcomes[zone] == expected(truth), zone
    assert outcomes["Asia/Seoul"] == outcomes["Europe/Berlin"]
    assert all(accepted > 0 for accepted, _ in outcomes["Europe/Berlin"].values())


def test_files_named_in_another_zone_than_ingestion_reads_are_late() -> None:
    """The bug a second copy of the zone made: landed in Seoul time, read in Berlin time."""
    city = build_city(seed=5, sensors=10)
    _, outcome = simulate_and_ingest(city, ZoneInfo("Asia/Seoul"), ZoneInfo("Europe/Berlin"))
    accepted, reasons = outcome["noise"]
    assert accepted == 0
    assert set(reasons) >= {"late_arrival"}

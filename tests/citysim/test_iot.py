"""Readings and faults of a simulated day, checked line by line against the contract and the truth."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest

from cityplatform.sensor_kinds import SENSOR_KINDS, QuarantineReason
from citysim import (
    LATE_AFTER,
    SLOTS_PER_DAY,
    City,
    DayReadings,
    EventKind,
    IotDay,
    build_city,
    build_iot_day,
    simulate_day,
)
from governance.contracts.iot import validate_readings

DAY = date(2026, 11, 24)
TZ = ZoneInfo("Asia/Seoul")  # UTC+9 all year: the expected offsets below are +09:00


@pytest.fixture(scope="module")
def city() -> City:
    return build_city(seed=42, sensors=60)


@pytest.fixture(scope="module")
def readings(city: City) -> DayReadings:
    return simulate_day(city, DAY, tz=TZ, seed=42)


@pytest.fixture(scope="module")
def iot_day(city: City) -> IotDay:
    return build_iot_day(city, DAY, tz=TZ, seed=42, fault_rate=0.02)


def _hours(readings: DayReadings, first: float, last: float) -> np.ndarray:
    """Slot indices whose start falls in [first, last) o'clock."""
    hours = np.array([slot.hour + slot.minute / 60 for slot in readings.slots])
    return np.flatnonzero((hours >= first) & (hours < last))


def _lines(iot_day: IotDay) -> dict[tuple[str, int], str]:
    return {
        (key, number): line
        for key, data in iot_day.objects.items()
        for number, line in enumerate(data.decode().splitlines(), start=1)
    }


def _slot_start(key: str) -> datetime:
    stamp = re.search(r"_(\d{8}T\d{4})\.jsonl$", key).group(1)  # type: ignore[union-attr]
    return datetime.strptime(stamp, "%Y%m%dT%H%M").replace(tzinfo=TZ)


def _typed(kind: str, records: list[dict]) -> pl.DataFrame:
    """What ingestion would hand Pandera: contract dtypes, ``observed_at`` as UTC timestamps."""
    schema = {"sensor_id": pl.String, "kind": pl.String, "observed_at": pl.String}
    schema |= {m.name: m.dtype for m in SENSOR_KINDS[kind].measures}
    frame = pl.DataFrame(records, schema=schema, strict=True)
    return frame.with_columns(pl.col("observed_at").str.to_datetime(time_unit="us", time_zone="UTC"))


def _in_range(kind: str, record: dict) -> bool:
    return all(m.min <= record[m.name] <= m.max for m in SENSOR_KINDS[kind].measures if m.name in record)


# --- determinism ------------------------------------------------------------------------------


def test_same_seed_and_date_give_identical_bytes_and_truth(city: City, iot_day: IotDay) -> None:
    again = build_iot_day(city, DAY, tz=TZ, seed=42, fault_rate=0.02)
    assert again.objects == iot_day.objects
    assert again.truth.to_json() == iot_day.truth.to_json()


def test_another_seed_or_date_gives_other_bytes(city: City, iot_day: IotDay) -> None:
    other_seed = build_iot_day(city, DAY, tz=TZ, seed=43, fault_rate=0.02)
    other_day = build_iot_day(city, DAY + timedelta(days=1), tz=TZ, seed=42, fault_rate=0.02)
    first_key = min(iot_day.objects)
    assert other_seed.objects[first_key] != iot_day.objects[first_key]
    assert other_seed.truth.faults != iot_day.truth.faults
    assert other_day.truth.events[0].start.date() == DAY + timedelta(days=1)


# --- layout and totals ------------------------------------------------------------------------


def test_one_file_per_kind_and_slot_keyed_by_local_slot_start(iot_day: IotDay) -> None:
    for kind in SENSOR_KINDS:
        keys = sorted(k for k in iot_day.objects if k.startswith(f"iot/{kind}/"))
        assert len(keys) == SLOTS_PER_DAY
        assert keys[0] == f"iot/{kind}/date=2026-11-24/{kind}_20261124T0000.jsonl"
        assert keys[-1] == f"iot/{kind}/date=2026-11-24/{kind}_20261124T2355.jsonl"


def test_totals_match_the_files(iot_day: IotDay) -> None:
    truth = iot_day.truth
    for kind in SENSOR_KINDS:
        written = sum(d.count(b"\n") for k, d in iot_day.objects.items() if k.startswith(f"iot/{kind}/"))
        faulted = sum(1 for f in truth.faults if f.key.startswith(f"iot/{kind}/"))
        assert truth.lines_written[kind] == written
        assert truth.expected_accepted[kind] == written - faulted


def test_truth_serialises_to_json(iot_day: IotDay) -> None:
    loaded = json.loads(iot_day.truth.to_json())
    assert len(loaded["faults"]) == len(iot_day.truth.faults)
    assert {e["kind"] for e in loaded["events"]} == {"pollution_episode", "congestion", "storm"}
    assert loaded["events"][0]["start"].endswith("+09:00")


# --- every line is exactly what the truth says ------------------------------------------------


def test_every_unfaulted_line_is_a_valid_on_time_unique_reading(city: City, iot_day: IotDay) -> None:
    faulted = {(f.key, f.line) for f in iot_day.truth.faults}
    registered = {s.sensor_id for s in city.sensors}
    by_kind: dict[str, list[dict]] = {kind: [] for kind in SENSOR_KINDS}
    for (key, number), line in _lines(iot_day).items():
        if (key, number) in faulted:
            continue
        record = json.loads(line)
        kind = key.split("/")[1]
        assert list(record) == list(SENSOR_KINDS[kind].fields)
        assert record["sensor_id"] in registered and record["kind"] == kind
        assert datetime.fromisoformat(record["observed_at"]) == _slot_start(key)
        by_kind[kind].append(record)
    for kind, records in by_kind.items():
        assert len(records) == iot_day.truth.expected_accepted[kind]
        validate_readings(kind, _typed(kind, records))


def test_every_reason_appears_for_every_kind(iot_day: IotDay) -> None:
    for kind in SENSOR_KINDS:
        reasons = {f.reason for f in iot_day.truth.faults if f.key.startswith(f"iot/{kind}/")}
        assert reasons == set(QuarantineReason)


def test_fault_count_follows_the_rate(city: City, iot_day: IotDay) -> None:
    readings = SLOTS_PER_DAY * len(city.sensors)
    assert abs(len(iot_day.truth.faults) - 0.02 * readings) <= len(SENSOR_KINDS)
    counts = iot_day.truth.fault_counts()
    assert max(counts.values()) - min(counts.values()) <= len(SENSOR_KINDS)


def test_each_faulted_line_has_exactly_its_reason(city: City, iot_day: IotDay) -> None:
    lines = _lines(iot_day)
    faulted = {(f.key, f.line) for f in iot_day.truth.faults}
    registered = {s.sensor_id for s in city.sensors}
    well_formed: dict[str, list[dict]] = {kind: [] for kind in SENSOR_KINDS}
    for fault in iot_day.truth.faults:
        line = lines[(fault.key, fault.line)]
        kind = fault.key.split("/")[1]
        spec = SENSOR_KINDS[kind]
        if fault.reason == QuarantineReason.MALFORMED_JSON:
            assert line.strip()
            with pytest.raises(json.JSONDecodeError):
                json.loads(line)
            continue
        record = json.loads(line)
        if fault.reason == QuarantineReason.MISSING_FIELD:
            assert set(record) == set(spec.fields) - {fault.field}
            continue
        assert list(record) == list(spec.fields)
        if fault.reason == QuarantineReason.WRONG_TYPE:
            value = record[fault.field]
            assert isinstance(value, str | bool | list)
            if isinstance(value, str):
                with pytest.raises(ValueError):
                    float(value)
            continue
        if fault.reason == QuarantineReason.OUT_OF_RANGE:
            measure = next(m for m in spec.measures if m.name == fault.field)
            value = record[fault.field]
            assert isinstance(value, int if measure.dtype == pl.Int64 else float)
            assert not isinstance(value, bool)
            assert not measure.min <= value <= measure.max
            assert _in_range(kind, {k: v for k, v in record.items() if k != fault.field})
            continue
        # The remaining reasons are well-formed, typed, in-range readings (validated below, per kind).
        well_formed[kind].append(record)
        observed = datetime.fromisoformat(record["observed_at"])
        if fault.reason == QuarantineReason.UNKNOWN_SENSOR:
            assert re.match(spec.id_pattern, record["sensor_id"]) and record["sensor_id"] not in registered
            assert observed == _slot_start(fault.key)
        elif fault.reason == QuarantineReason.LATE_ARRIVAL:
            assert record["sensor_id"] in registered
            assert _slot_start(fault.key) - observed > LATE_AFTER
            assert observed.date() == DAY
        else:
            assert fault.reason == QuarantineReason.DUPLICATE
            original = (fault.duplicate_of.key, fault.duplicate_of.line)
            assert lines[original] == line
            assert original not in faulted
            assert original < (fault.key, fault.line)
            assert timedelta(0) <= _slot_start(fault.key) - observed <= LATE_AFTER
    for kind, records in well_formed.items():
        validate_readings(kind, _typed(kind, records))


def test_a_late_or_duplicated_reading_is_not_also_in_its_own_slot(iot_day: IotDay) -> None:
    """A late line was moved, not copied: the reading exists once in the day; a duplicate exactly twice."""
    seen: Counter[tuple[str, str]] = Counter()
    for line in _lines(iot_day).values():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "sensor_id" in record and "observed_at" in record:
            seen[(record["sensor_id"], record["observed_at"])] += 1
    lines = _lines(iot_day)
    for fault in iot_day.truth.faults:
        if fault.reason in (QuarantineReason.LATE_ARRIVAL, QuarantineReason.DUPLICATE):
            record = json.loads(lines[(fault.key, fault.line)])
            expected = 1 if fault.reason == QuarantineReason.LATE_ARRIVAL else 2
            assert seen[(record["sensor_id"], record["observed_at"])] == expected


def test_no_faults_at_rate_zero(city: City) -> None:
    clean = build_iot_day(city, DAY, tz=TZ, seed=42, fault_rate=0.0)
    assert clean.truth.faults == ()
    assert clean.truth.expected_accepted == clean.truth.lines_written
    assert clean.truth.lines_written["rain"] == SLOTS_PER_DAY * len(city.sensors_of("rain"))


def test_a_fault_rate_out_of_bounds_is_refused(city: City) -> None:
    with pytest.raises(ValueError, match="fault_rate"):
        build_iot_day(city, DAY, tz=TZ, fault_rate=0.9)


# --- the readings behave like a city ----------------------------------------------------------


def test_clean_readings_satisfy_the_contract(readings: DayReadings) -> None:
    for kind, kind_readings in readings.kinds.items():
        records = [
            {
                "sensor_id": sensor_id,
                "kind": kind,
                "observed_at": slot.isoformat(),
                **{name: values[s, column].item() for name, values in kind_readings.values.items()},
            }
            for s, slot in enumerate(readings.slots)
            for column, sensor_id in enumerate(kind_readings.sensor_ids)
        ]
        validate_readings(kind, _typed(kind, records))


def test_rush_hours_carry_more_traffic_than_the_night(readings: DayReadings) -> None:
    counts = readings.kinds["traffic"].values["vehicle_count"]
    night = counts[_hours(readings, 1, 5)].mean()
    assert counts[_hours(readings, 7, 9)].mean() > 4 * night
    assert counts[_hours(readings, 17, 19)].mean() > 4 * night
    no2 = readings.kinds["air_quality"].values["no2"]
    assert no2[_hours(readings, 7, 9)].mean() > 1.5 * no2[_hours(readings, 1, 5)].mean()
    o3 = readings.kinds["air_quality"].values["o3"]
    assert o3[_hours(readings, 13, 17)].mean() > 2 * o3[_hours(readings, 6, 10)].mean()


def test_commercial_zones_are_louder_and_days_louder_than_nights(city: City, readings: DayReadings) -> None:
    noise = readings.kinds["noise"]
    zone = {d.district_id: d.zone_type for d in city.districts}
    zones = np.array([zone[s.district_id] for s in city.sensors_of("noise")])
    laeq = noise.values["laeq_db"]
    assert laeq[:, zones == "commercial"].mean() > laeq[:, zones == "quiet"].mean() + 8
    assert laeq[_hours(readings, 10, 16)].mean() > laeq[_hours(readings, 1, 5)].mean() + 5
    assert (noise.values["lamax_db"] >= laeq).all()


def test_the_pollution_episode_peaks_inside_its_window_worst_in_its_district(
    city: City, readings: DayReadings
) -> None:
    episode = next(e for e in readings.events if e.kind == EventKind.POLLUTION_EPISODE)
    aq = readings.kinds["air_quality"]
    district_of = {s.sensor_id: s.district_id for s in city.sensors}
    inside = np.array([district_of[sid] == episode.district_id for sid in aq.sensor_ids])
    pm10 = aq.values["pm10"]
    peak_slot = int(pm10[:, inside].max(axis=1).argmax())
    assert episode.start <= readings.slots[peak_slot] <= episode.end
    assert readings.slots[peak_slot] == episode.peak
    assert episode.peaks["pm10"].value > 150  # Korean CAI "very bad" for PM10
    assert episode.peaks["pm25"].value > 75  # and for PM2.5
    assert pm10[:, inside].max() > pm10[:, ~inside].max()
    assert pm10[_hours(readings, 0, 2)].max() < 150


def test_the_jam_collapses_speed_and_fills_the_loop(readings: DayReadings) -> None:
    jam = next(e for e in readings.events if e.kind == EventKind.CONGESTION)
    loops = readings.kinds["traffic"]
    column = loops.sensor_ids.index(jam.sensor_ids[0])
    during = [i for i, slot in enumerate(readings.slots) if jam.start <= slot <= jam.end]
    assert loops.values["mean_speed_kmh"][during, column].min() < 15
    assert loops.values["occupancy_pct"][during, column].max() > 50
    assert jam.peaks["mean_speed_kmh"].value == loops.values["mean_speed_kmh"][during, column].min()
    busy_others = np.delete(loops.values["occupancy_pct"][during], column, axis=1)
    assert busy_others.max() < 50


def test_the_storm_floods_its_district_past_warning_inside_the_window_only(
    city: City, readings: DayReadings
) -> None:
    storm = next(e for e in readings.events if e.kind == EventKind.STORM)
    river = readings.kinds["river_level"]
    levels = river.values["level_m"]
    warning = np.array([city.gauge(sid).warning_level_m for sid in river.sensor_ids])
    over = levels > warning
    flooded = {river.sensor_ids[c] for c in np.flatnonzero(over.any(axis=0))}
    assert flooded and {city.gauge(sid).district_id for sid in flooded} == {storm.district_id}
    times = [readings.slots[i] for i in np.flatnonzero(over.any(axis=1))]
    assert storm.start <= min(times) and max(times) <= storm.end
    # The river lags the rain by one to two hours or so.
    rain = storm.peaks["rainfall_mm"]
    assert timedelta(minutes=45) <= storm.peaks["level_m"].at - rain.at <= timedelta(hours=3)
    assert rain.value > 3


def test_events_can_be_turned_off(city: City) -> None:
    calm = simulate_day(city, DAY, tz=TZ, seed=42, events=())
    assert calm.events == ()
    assert (calm.kinds["rain"].values["rainfall_mm"] == 0).all()
    attention = np.array([city.gauge(sid).attention_level_m for sid in calm.kinds["river_level"].sensor_ids])
    assert (calm.kinds["river_level"].values["level_m"] < attention).all()
    assert calm.kinds["air_quality"].values["pm10"].max() < 150
    only_storm = simulate_day(city, DAY, tz=TZ, seed=42, events={EventKind.STORM})
    assert [e.kind for e in only_storm.events] == [EventKind.STORM]


def test_a_storm_placed_at_its_own_start_changes_nothing(city: City, readings: DayReadings) -> None:
    storm = next(e for e in readings.events if e.kind == EventKind.STORM)
    placed = simulate_day(city, DAY, tz=TZ, seed=42, storm_start=storm.start.replace(tzinfo=None))
    assert placed.events == readings.events
    for kind, values in readings.kinds.items():
        for measure, array in values.values.items():
            assert np.array_equal(placed.kinds[kind].values[measure], array), (kind, measure)


def test_a_storm_placed_late_runs_on_over_midnight_into_the_next_day(city: City) -> None:
    """The same storm_start for two days: one storm, its rain and flood continuing after midnight."""
    start = datetime(2026, 11, 24, 22, 0)
    late, next_day = (
        simulate_day(city, day, tz=TZ, seed=42, storm_start=start) for day in (DAY, DAY + timedelta(days=1))
    )
    storms = [next(e for e in d.events if e.kind == EventKind.STORM) for d in (late, next_day)]
    assert storms[0].district_id == storms[1].district_id
    assert storms[0].start == storms[1].start == start.replace(tzinfo=TZ)  # the next day knows when it began
    river = late.kinds["river_level"]
    gauge = river.sensor_ids.index(storms[0].peaks["level_m"].sensor_id)
    attention = city.gauge(river.sensor_ids[gauge]).attention_level_m
    before, after = (
        river.values["level_m"][-1, gauge],
        next_day.kinds["river_level"].values["level_m"][0, gauge],
    )
    assert before >= attention and after >= attention  # in flood at 23:55 and at 00:00
    # the same river, not a jump at midnight: no bigger a step than the storm's within the day
    assert abs(after - before) <= np.abs(np.diff(river.values["level_m"][:, gauge])).max()
    # the next day's own storm is replaced: no rain there after the placed storm has passed
    assert (next_day.kinds["rain"].values["rainfall_mm"][_hours(next_day, 6, 24)] == 0).all()
    assert late.kinds["rain"].values["rainfall_mm"][_hours(late, 0, 22)].sum() == 0

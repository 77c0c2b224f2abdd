"""Clean 5-minute readings of every sensor for one local day, and the truth about the day's events.

Values are rounded to what a real instrument reports and kept inside the contract ranges of
:data:`governance.contracts.iot.SENSOR_KINDS`; only the fault injector ever breaks them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

import numpy as np
import polars as pl

from cityplatform.sensor_kinds import SENSOR_KINDS
from citysim import signals
from citysim.city import City, Sensor
from citysim.clock import SLOT, slot_starts
from citysim.events import EventPlan, StormPlan, Window, plan_events
from citysim.truth import ALL_EVENTS, EventKind, MeasurePeak, SimEvent

# Reporting resolution per measure; integer measures are cast, not rounded.
DECIMALS = {
    "pm10": 1,
    "pm25": 1,
    "no2": 3,
    "o3": 3,
    "laeq_db": 1,
    "lamax_db": 1,
    "mean_speed_kmh": 1,
    "occupancy_pct": 1,
    "rainfall_mm": 1,
    "level_m": 2,
}

Generator = Callable[[np.random.Generator, City, Sequence[Sensor], EventPlan], dict[str, np.ndarray]]
GENERATORS: dict[str, Generator] = {
    "air_quality": signals.air_quality,
    "noise": signals.noise,
    "traffic": signals.traffic,
    "rain": signals.rain,
    "river_level": signals.river_level,
}
# Random stream per kind (0 is the events' stream): one kind's change leaves the others' bytes alone.
KIND_STREAMS = {kind: index for index, kind in enumerate(SENSOR_KINDS, start=1)}


@dataclass(frozen=True)
class KindReadings:
    """One kind's day: ``values[measure][slot, sensor]``, sensors in registry order."""

    kind: str
    sensor_ids: tuple[str, ...]
    values: dict[str, np.ndarray]


@dataclass(frozen=True)
class DayReadings:
    day: date
    slots: tuple[datetime, ...]
    kinds: dict[str, KindReadings]
    events: tuple[SimEvent, ...]


def simulate_day(
    city: City,
    day: date,
    *,
    tz: tzinfo,
    seed: int = 42,
    events: Collection[EventKind] = ALL_EVENTS,
    storm_start: datetime | None = None,
) -> DayReadings:
    """Every sensor's clean readings for ``day``, local time in the city's zone ``tz``; same city,
    seed, date and events -> same values, whatever the zone. ``storm_start`` places the storm
    (:func:`citysim.events.plan_events`); ``None`` keeps the day's own."""
    plan = plan_events(city, day, seed, events, storm_start=storm_start)
    kinds = {}
    for kind, generate in GENERATORS.items():
        sensors = city.sensors_of(kind)
        rng = np.random.default_rng([seed, day.toordinal(), KIND_STREAMS[kind]])
        raw = generate(rng, city, sensors, plan)
        kinds[kind] = KindReadings(kind, tuple(s.sensor_id for s in sensors), _to_contract(kind, raw))
    slots = slot_starts(day, tz)
    return DayReadings(day, slots, kinds, _describe_events(city, plan, kinds, slots))


def _to_contract(kind: str, raw: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Clip into the contract range and round to instrument resolution (ints stay ints)."""
    values = {}
    for measure in SENSOR_KINDS[kind].measures:
        clipped = np.clip(raw[measure.name], measure.min, measure.max)
        if measure.dtype == pl.Int64:
            values[measure.name] = np.rint(clipped).astype(np.int64)
        else:
            values[measure.name] = np.round(clipped, DECIMALS[measure.name]) + 0.0  # no -0.0
    return values


def _describe_events(
    city: City, plan: EventPlan, kinds: dict[str, KindReadings], slots: tuple[datetime, ...]
) -> tuple[SimEvent, ...]:
    """Turn each plan into truth, with peaks measured on the clean readings actually produced."""
    described = []
    if plan.pollution is not None:
        aq = kinds["air_quality"]
        ids = _ids_in_district(city, aq, plan.pollution.district_id)
        peaks = {m: _peak(aq, ids, m, slots, plan.pollution.window) for m in ("pm10", "pm25")}
        described.append(
            SimEvent(
                kind=EventKind.POLLUTION_EPISODE,
                district_id=plan.pollution.district_id,
                segment_id=None,
                sensor_ids=ids,
                start=slots[plan.pollution.window.start],
                peak=peaks["pm10"].at,
                end=slots[plan.pollution.window.end],
                peaks=peaks,
            )
        )
    if plan.congestion is not None:
        jam = plan.congestion
        loops, ids = kinds["traffic"], (jam.sensor_id,)
        peaks = {
            "mean_speed_kmh": _peak(loops, ids, "mean_speed_kmh", slots, jam.window, lowest=True),
            "occupancy_pct": _peak(loops, ids, "occupancy_pct", slots, jam.window),
        }
        described.append(
            SimEvent(
                kind=EventKind.CONGESTION,
                district_id=city.segment(jam.segment_id).district_id,
                segment_id=jam.segment_id,
                sensor_ids=ids,
                start=slots[jam.window.start],
                peak=peaks["mean_speed_kmh"].at,
                end=slots[jam.window.end],
                peaks=peaks,
            )
        )
    if plan.storm is not None:
        described.append(_describe_storm(city, plan.storm, kinds, slots))
    return tuple(described)


def _describe_storm(
    city: City, storm: StormPlan, kinds: dict[str, KindReadings], slots: tuple[datetime, ...]
) -> SimEvent:
    """The storm's window runs from the first rain until its rivers are back below attention level.

    A storm placed across midnight (``storm_start``) is described by each day as far as it sees it:
    its start may be on the day before, its end the day's last slot (still above attention) or a
    later one (still raining), its peaks those of the day's own readings.
    """
    rivers = kinds["river_level"]
    gauges = _ids_in_district(city, rivers, storm.district_id)
    columns = [rivers.sensor_ids.index(g) for g in gauges]
    attention = np.array([city.gauge(g).attention_level_m for g in gauges])
    above = np.flatnonzero((rivers.values["level_m"][:, columns] >= attention).any(axis=1))
    end = max(storm.rain_window.end, int(above[-1]) if above.size else 0)
    window = Window(storm.rain_window.start, storm.rain_window.peak, end)
    seen = Window(max(window.start, 0), window.peak, min(window.end, len(slots) - 1))
    rain_gauges = _ids_in_district(city, kinds["rain"], storm.district_id)
    peaks = {
        "level_m": _peak(rivers, gauges, "level_m", slots, seen),
        "rainfall_mm": _peak(kinds["rain"], rain_gauges, "rainfall_mm", slots, seen),
    }
    return SimEvent(
        kind=EventKind.STORM,
        district_id=storm.district_id,
        segment_id=None,
        sensor_ids=gauges + rain_gauges,
        start=slots[0] + window.start * SLOT,
        peak=peaks["level_m"].at,
        end=slots[0] + window.end * SLOT,
        peaks=peaks,
    )


def _ids_in_district(city: City, readings: KindReadings, district_id: str) -> tuple[str, ...]:
    home = {s.sensor_id: s.district_id for s in city.sensors}
    return tuple(sid for sid in readings.sensor_ids if home[sid] == district_id)


def _peak(
    readings: KindReadings,
    sensor_ids: Sequence[str],
    measure: str,
    slots: tuple[datetime, ...],
    window: Window,
    *,
    lowest: bool = False,
) -> MeasurePeak:
    """The most extreme reading of ``measure`` among ``sensor_ids`` inside ``window``."""
    columns = [readings.sensor_ids.index(sid) for sid in sensor_ids]
    inside = readings.values[measure][window.start : window.end + 1, columns]
    flat = int(np.argmin(inside) if lowest else np.argmax(inside))
    row, column = divmod(flat, len(columns))
    return MeasurePeak(
        sensor_id=sensor_ids[column],
        at=slots[window.start + row],
        value=inside[row, column].item(),
    )

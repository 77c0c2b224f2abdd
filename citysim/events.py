"""Where and when the day's scripted events happen: a pollution episode, a jam, a storm.

Plans are drawn before any reading, from their own random stream, so a day's events depend only on
the city, the seed and the date, not on how the readings around them are generated.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime

import numpy as np

from citysim.city import City
from citysim.clock import SLOTS_PER_DAY
from citysim.truth import EventKind

EVENT_STREAM = 0


@dataclass(frozen=True)
class Window:
    """Slot indices: the event rises from ``start`` to ``peak`` and fades out by ``end``."""

    start: int
    peak: int
    end: int

    def shifted(self, slots: int) -> Window:
        return Window(self.start + slots, self.peak + slots, self.end + slots)

    def envelope(self, slots: np.ndarray | None = None) -> np.ndarray:
        """0 outside the window, smooth sin-squared rise to 1 at the peak and fall back to 0; at the
        day's slots unless ``slots`` says which (a slot before the day is negative)."""
        slots = np.arange(SLOTS_PER_DAY) if slots is None else slots
        rise = np.sin(0.5 * np.pi * (slots - self.start) / (self.peak - self.start)) ** 2
        fall = np.cos(0.5 * np.pi * (slots - self.peak) / (self.end - self.peak)) ** 2
        shape = np.where(slots <= self.peak, rise, fall)
        return np.where((slots >= self.start) & (slots <= self.end), shape, 0.0)


@dataclass(frozen=True)
class PollutionPlan:
    district_id: str
    window: Window
    pm10_rise: float  # ug/m3 added at the peak in the worst district


@dataclass(frozen=True)
class CongestionPlan:
    segment_id: str
    sensor_id: str
    window: Window
    jam_speed_kmh: float
    jam_occupancy_pct: float


@dataclass(frozen=True)
class StormPlan:
    district_id: str
    rain_window: Window
    peak_rain_mm: float  # per 5 minutes, at the storm's centre
    river_lag_slots: int  # mode of the river's response to rain
    alarm_fraction: float  # how far past warning towards alarm the worst gauge peaks


@dataclass(frozen=True)
class EventPlan:
    pollution: PollutionPlan | None
    congestion: CongestionPlan | None
    storm: StormPlan | None


def plan_events(
    city: City, day: date, seed: int, events: Collection[EventKind], *, storm_start: datetime | None = None
) -> EventPlan:
    """The day's events. ``storm_start`` (a local wall-clock time, any day) replaces the day's own
    storm by the storm drawn for ``storm_start``'s date, moved to start raining then: give the same
    value to consecutive days and a storm started late on one runs on over midnight into the next
    (its rain and river response continue where the day before left them). ``None``: the day's own."""
    pollution, congestion, storm = _draw(city, day, seed)
    if storm_start is not None:
        storm = _placed_storm(city, day, seed, storm_start)
    return EventPlan(
        pollution=pollution if EventKind.POLLUTION_EPISODE in events else None,
        congestion=congestion if EventKind.CONGESTION in events else None,
        storm=storm if EventKind.STORM in events else None,
    )


def _draw(city: City, day: date, seed: int) -> tuple[PollutionPlan, CongestionPlan, StormPlan]:
    rng = np.random.default_rng([seed, day.toordinal(), EVENT_STREAM])
    # Every plan is drawn whether wanted or not, so turning one event off leaves the others unchanged.
    return _plan_pollution(rng, city), _plan_congestion(rng, city), _plan_storm(rng, city)


def _placed_storm(city: City, day: date, seed: int, storm_start: datetime) -> StormPlan:
    """The storm of ``storm_start``'s date with its rain starting at ``storm_start``, in ``day``'s
    slots: negative on a later day, past the day's last slot on an earlier one (no rain that day)."""
    storm = _draw(city, storm_start.date(), seed)[2]
    slot_of_day = (storm_start.hour * 60 + storm_start.minute) // 5
    start = (storm_start.date() - day).days * SLOTS_PER_DAY + slot_of_day
    return replace(storm, rain_window=storm.rain_window.shifted(start - storm.rain_window.start))


def _window(
    rng: np.random.Generator, start_range: tuple[int, int], rise: tuple[int, int], fall: tuple[int, int]
) -> Window:
    """Start in ``start_range``, then rise and fall for a number of slots drawn from each range."""
    start = int(rng.integers(*start_range))
    peak = start + int(rng.integers(*rise))
    end = min(peak + int(rng.integers(*fall)), SLOTS_PER_DAY - 1)
    return Window(start, peak, end)


def _plan_pollution(rng: np.random.Generator, city: City) -> PollutionPlan:
    # Fine dust builds overnight and in the morning (03:00-10:00), over 3-6 h, and clears as slowly.
    districts = sorted({s.district_id for s in city.sensors_of("air_quality")})
    return PollutionPlan(
        district_id=str(rng.choice(districts)),
        window=_window(rng, (36, 121), (36, 73), (36, 73)),
        pm10_rise=float(rng.uniform(150, 230)),
    )


def _plan_congestion(rng: np.random.Generator, city: City) -> CongestionPlan:
    # A crash or roadworks between 07:00 and 18:00, jammed for 45 min to 2 h.
    loops = city.sensors_of("traffic")
    loop = loops[int(rng.integers(len(loops)))]
    assert loop.segment_id is not None  # every loop detector sits on a segment
    return CongestionPlan(
        segment_id=loop.segment_id,
        sensor_id=loop.sensor_id,
        window=_window(rng, (84, 217), (4, 9), (5, 16)),
        jam_speed_kmh=float(rng.uniform(5, 12)),
        jam_occupancy_pct=float(rng.uniform(65, 88)),
    )


def _plan_storm(rng: np.random.Generator, city: City) -> StormPlan:
    # A summer-style convective storm from 10:00-14:00 lasting 2-3.5 h, over a gauged river (which
    # always has a rain gauge in its district: see build_city).
    rivers = sorted({s.district_id for s in city.sensors_of("river_level")})
    return StormPlan(
        district_id=str(rng.choice(rivers)),
        rain_window=_window(rng, (120, 169), (9, 16), (15, 27)),
        peak_rain_mm=float(rng.uniform(6, 10)),
        river_lag_slots=int(rng.integers(12, 19)),
        alarm_fraction=float(rng.uniform(0.25, 0.7)),
    )

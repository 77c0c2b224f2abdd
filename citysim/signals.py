"""Raw physical signals per sensor kind, one day at a time, as (slots, sensors) numpy arrays.

Each generator returns unrounded values keyed by the contract's measure names; rounding and
clipping to the contract happen once, in :mod:`citysim.iot`. Profiles are hand-tuned to look like a
Korean city in the data, not fitted to any station.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from citysim.city import City, Sensor, distance_km
from citysim.clock import SLOTS_PER_DAY, slot_hours
from citysim.events import EventPlan

HOURS = slot_hours()
# Effective vehicle length plus loop length: turns density into loop occupancy.
EFFECTIVE_VEHICLE_KM = 0.0065
# Local day/night levels in dB(A): commercial and industrial zones often run above their limits.
ZONE_NOISE_DB = {"quiet": (48, 39), "residential": (56, 46), "commercial": (66, 56), "industrial": (67, 60)}
ZONE_NO2_PPM = {"quiet": 0.008, "residential": 0.013, "commercial": 0.019, "industrial": 0.022}
POLLUTION_SPREAD_KM = 8.0
STORM_SPREAD_KM = 6.0


def _bump(centre: float, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((HOURS - centre) / width) ** 2)


def _daytime() -> np.ndarray:
    """~0 at night, ~1 from about 06:30 to 22:00."""
    return 1 / (1 + np.exp(-(HOURS - 6.0) / 0.6)) / (1 + np.exp((HOURS - 22.5) / 0.8))


def traffic_demand() -> np.ndarray:
    """Share of road capacity in use: quiet nights, a busy day, rush hours peaking 08:00 and 18:00."""
    return 0.06 + 0.45 * _daytime() + 0.38 * _bump(8.0, 0.75) + 0.33 * _bump(18.0, 0.9)


def _ar1(rng: np.random.Generator, sensors: int, phi: float, sigma: float) -> np.ndarray:
    """Autocorrelated noise with stationary standard deviation ``sigma``: readings drift, not jump."""
    shocks = rng.normal(0, sigma * np.sqrt(1 - phi**2), (SLOTS_PER_DAY, sensors))
    shocks[0] = rng.normal(0, sigma, sensors)
    for slot in range(1, SLOTS_PER_DAY):
        shocks[slot] += phi * shocks[slot - 1]
    return shocks


def _distances(city: City, sensors: Sequence[Sensor], district_id: str) -> np.ndarray:
    centre = city.district(district_id)
    return np.array([distance_km(s.lat, s.lon, centre.lat, centre.lon) for s in sensors])


def _zones(city: City, sensors: Sequence[Sensor]) -> list[str]:
    zone_of = {d.district_id: d.zone_type for d in city.districts}
    return [zone_of[s.district_id] for s in sensors]


def air_quality(
    rng: np.random.Generator, city: City, sensors: Sequence[Sensor], plan: EventPlan
) -> dict[str, np.ndarray]:
    """Particulates with a morning and evening bump, NO2 following rush hours, O3 peaking mid-afternoon.

    The pollution episode adds PM10 (and a fine share of PM2.5) everywhere, most in its district.
    """
    n = len(sensors)
    traffic = (_bump(8.0, 1.5) + _bump(20.0, 2.0))[:, None]
    pm10 = rng.uniform(25, 45, n) * (1 + 0.15 * traffic) * np.exp(_ar1(rng, n, 0.97, 0.10))
    pm25 = pm10 * rng.uniform(0.45, 0.6, n) * np.exp(_ar1(rng, n, 0.9, 0.05))
    if plan.pollution is not None:
        episode = plan.pollution
        in_district = np.array([s.district_id == episode.district_id for s in sensors])
        nearby = 0.3 + 0.4 * np.exp(-_distances(city, sensors, episode.district_id) / POLLUTION_SPREAD_KM)
        reach = np.where(in_district, 1.0, nearby)
        added = (
            episode.pm10_rise * episode.window.envelope()[:, None] * reach * np.exp(_ar1(rng, n, 0.9, 0.06))
        )
        pm10 = pm10 + added
        pm25 = pm25 + 0.62 * added
    base_no2 = np.array([ZONE_NO2_PPM[zone] for zone in _zones(city, sensors)])
    rush = (_bump(8.0, 1.0) + 0.9 * _bump(18.5, 1.2))[:, None]
    no2 = base_no2 * (1 + 1.6 * rush) * np.exp(_ar1(rng, n, 0.9, 0.12))
    sunlit = 0.006 + 0.045 * _bump(15.0, 2.2)[:, None]
    o3 = np.maximum(sunlit - 0.25 * (no2 - base_no2), 0.002) * np.exp(_ar1(rng, n, 0.9, 0.10))
    return {"pm10": pm10, "pm25": pm25, "no2": no2, "o3": o3}


def noise(
    rng: np.random.Generator, city: City, sensors: Sequence[Sensor], plan: EventPlan
) -> dict[str, np.ndarray]:
    """Equivalent level between the zone's night and day levels, following traffic; Lmax on top."""
    n = len(sensors)
    levels = np.array([ZONE_NOISE_DB[zone] for zone in _zones(city, sensors)], dtype=float)
    day_db, night_db = levels[:, 0], levels[:, 1]
    demand = traffic_demand()
    activity = ((demand - demand.min()) / (0.55 - demand.min())).clip(0, 1)[:, None]
    laeq = night_db + (day_db - night_db) * activity + rng.normal(0, 2.5, n) + _ar1(rng, n, 0.8, 1.2)
    lamax = laeq + 6 + rng.gamma(3.0, 2.5, (SLOTS_PER_DAY, n))
    return {"laeq_db": laeq, "lamax_db": lamax}


def traffic(
    rng: np.random.Generator, city: City, sensors: Sequence[Sensor], plan: EventPlan
) -> dict[str, np.ndarray]:
    """Poisson counts from capacity x demand; speed from a BPR-style curve; occupancy from density.

    The congestion event drags its segment's speed down to a crawl and its occupancy up.
    """
    n = len(sensors)
    segments = [city.segment(str(s.segment_id)) for s in sensors]
    capacity = np.array([seg.capacity_vph for seg in segments], dtype=float)
    lanes = np.array([seg.lanes for seg in segments], dtype=float)
    free_flow = np.array([seg.speed_limit_kmh for seg in segments]) * rng.uniform(0.85, 1.05, n)
    load = traffic_demand()[:, None] * rng.uniform(0.75, 1.0, n) * np.exp(_ar1(rng, n, 0.85, 0.08))
    speed = free_flow / (1 + load**4) * np.exp(_ar1(rng, n, 0.7, 0.05))
    flow_vph = load * capacity
    severity = np.zeros_like(load)
    jam_speed = jam_occupancy = 0.0
    if plan.congestion is not None:
        jam = plan.congestion
        hit = np.array([s.sensor_id == jam.sensor_id for s in sensors])
        severity = jam.window.envelope()[:, None] * hit
        jam_speed, jam_occupancy = jam.jam_speed_kmh, jam.jam_occupancy_pct
    flow_vph = flow_vph * (1 - 0.45 * severity)
    speed = speed * (1 - severity) + jam_speed * severity
    count = rng.poisson(flow_vph / 12)
    occupancy = 100 * flow_vph / lanes / speed * EFFECTIVE_VEHICLE_KM
    occupancy = occupancy * (1 - severity) + jam_occupancy * severity
    # A loop that saw no vehicle reports zero speed and zero occupancy, as controllers do.
    empty = count == 0
    return {
        "vehicle_count": count,
        "mean_speed_kmh": np.where(empty, 0.0, speed),
        "occupancy_pct": np.where(empty, 0.0, occupancy),
    }


def storm_rain(city: City, sensors: Sequence[Sensor], plan: EventPlan) -> np.ndarray:
    """Expected 5-minute rain at each sensor: the storm's envelope, fading with distance from its centre."""
    if plan.storm is None:
        return np.zeros((SLOTS_PER_DAY, len(sensors)))
    return (
        plan.storm.peak_rain_mm
        * plan.storm.rain_window.envelope()[:, None]
        * storm_reach(city, sensors, plan)
    )


def storm_reach(city: City, sensors: Sequence[Sensor], plan: EventPlan) -> np.ndarray:
    """Share of the storm that reaches each sensor (1 at its centre), by distance."""
    assert plan.storm is not None
    return np.exp(-((_distances(city, sensors, plan.storm.district_id) / STORM_SPREAD_KM) ** 2))


def rain(
    rng: np.random.Generator, city: City, sensors: Sequence[Sensor], plan: EventPlan
) -> dict[str, np.ndarray]:
    """Gusty convective rain around the expected amount, counted in 0.5 mm bucket tips."""
    expected = storm_rain(city, sensors, plan)
    gusts = rng.gamma(4.0, 0.25, expected.shape)
    return {"rainfall_mm": np.floor(expected * gusts / 0.5 + 0.5) * 0.5}


def river_level(
    rng: np.random.Generator, city: City, sensors: Sequence[Sensor], plan: EventPlan
) -> dict[str, np.ndarray]:
    """Stage = normal level + the storm's rain routed through a lagged, skewed catchment response.

    Gauges in the storm's district peak between warning and alarm; every other gauge stays below
    90% of the way from normal to its own warning level.
    """
    n = len(sensors)
    gauges = [city.gauge(s.sensor_id) for s in sensors]
    normal = np.array([g.normal_level_m for g in gauges])
    level = normal + _ar1(rng, n, 0.95, 0.004)
    if plan.storm is None:
        return {"level_m": level}
    storm = plan.storm
    window = storm.rain_window
    lag = np.arange(8 * storm.river_lag_slots)
    theta = storm.river_lag_slots / 2  # gamma(shape 3) kernel: mode at the lag
    kernel = lag**2 * np.exp(-lag / theta)
    # Rain up to the kernel's length before midnight still feeds the day's river (a storm placed late
    # the day before); the scale is the whole storm's peak response, whichever day holds it.
    before = lag.size - 1
    rain_then = window.envelope(np.arange(-before, SLOTS_PER_DAY))
    response = np.convolve(rain_then, kernel)[before : before + SLOTS_PER_DAY]
    whole = np.convolve(window.envelope(np.arange(window.start, window.end + 1)), kernel)
    response = (response / whole.max())[:, None]
    warning = np.array([g.warning_level_m for g in gauges])
    alarm = np.array([g.alarm_level_m for g in gauges])
    flooded = np.array([g.district_id == storm.district_id for g in gauges])
    reach = storm_reach(city, sensors, plan)
    rise = np.where(
        flooded,
        warning - normal + storm.alarm_fraction * (alarm - warning),
        0.9 * (warning - normal) * reach,
    )
    return {"level_m": level + rise * response}

"""The synthetic city: districts, road segments and the sensor registry, all derived from one seed.

Everything here is static for a city (it does not depend on the simulated day), so the registry CSVs
written to landing are the same for every day of the same city.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

import numpy as np

from cityplatform.sensor_kinds import SENSOR_KINDS

ZoneType = Literal["residential", "commercial", "industrial", "quiet"]

CITY_CENTRE = (37.6, 126.7)
KM_PER_DEGREE_LAT = 111.0

# Day/night limits in Leq dB(A): Korea's environmental noise standards for general areas (환경정책기본법
# 시행령 [별표 1] 2. 소음; day 06:00-22:00, night 22:00-06:00) of area types 가, 나, 다 and 라.
NOISE_LIMITS_DB: dict[str, tuple[float, float]] = {
    "quiet": (50.0, 40.0),
    "residential": (55.0, 45.0),
    "commercial": (65.0, 55.0),
    "industrial": (70.0, 65.0),
}

# Share of the registry per kind: loop detectors are the bulk of a city's IoT estate.
KIND_SHARES: dict[str, float] = {
    "traffic": 0.40,
    "air_quality": 0.20,
    "noise": 0.20,
    "rain": 0.10,
    "river_level": 0.10,
}

_DISTRICT_NAMES = (
    "Haneul-dong",
    "Bitnuri-dong",
    "Saemteo-dong",
    "Dongsan-dong",
    "Seoho-dong",
    "Namgang-dong",
    "Bukmun-dong",
    "Songdam-dong",
    "Maru-dong",
    "Nuri-dong",
    "Garam-dong",
    "Dasom-dong",
)
_RIVERS = ("Gulpocheon", "Naejincheon", "Bongseongcheon", "Gyeyangcheon")
_EXTRA_ZONE_WEIGHTS = {"residential": 0.5, "commercial": 0.25, "industrial": 0.15, "quiet": 0.10}
_POPULATION_RANGE = {
    "residential": (30_000, 70_000),
    "commercial": (15_000, 40_000),
    "industrial": (5_000, 20_000),
    "quiet": (8_000, 25_000),
}
_AREA_RANGE_KM2 = {"residential": (3, 8), "commercial": (1.5, 4), "industrial": (4, 12), "quiet": (5, 15)}
# Segments follow activity: a commercial district has denser roads than a quiet one.
_ROAD_DENSITY = {"residential": 1.0, "commercial": 1.6, "industrial": 1.2, "quiet": 0.5}
_LANES_CHOICES = (2, 4, 6)
_SPEED_LIMIT_BY_LANES = {2: 50, 4: 60, 6: 70}
# Both directions, signalised urban arterial: far below motorway capacity per lane.
_CAPACITY_PER_LANE_VPH = 900
_MIN_SENSORS = len(SENSOR_KINDS)
# Ids from 9000 up stay unregistered, so the fault injector can make unknown-sensor lines.
MAX_SENSORS_PER_KIND = 8999


@dataclass(frozen=True)
class District:
    district_id: str
    name: str
    zone_type: ZoneType
    lat: float
    lon: float
    population: int
    area_km2: float
    noise_limit_day_db: float
    noise_limit_night_db: float


@dataclass(frozen=True)
class RoadSegment:
    segment_id: str
    district_id: str
    name: str
    lanes: int
    speed_limit_kmh: int
    capacity_vph: int
    length_km: float


@dataclass(frozen=True)
class Sensor:
    sensor_id: str
    kind: str
    district_id: str
    segment_id: str | None
    lat: float
    lon: float
    installed_date: date


@dataclass(frozen=True)
class RiverGauge:
    """Flood thresholds of one water-level gauge, in metres above its datum (normal < attention < ...)."""

    sensor_id: str
    district_id: str
    river: str
    normal_level_m: float
    attention_level_m: float
    warning_level_m: float
    alarm_level_m: float


@dataclass(frozen=True)
class City:
    seed: int
    districts: tuple[District, ...]
    road_segments: tuple[RoadSegment, ...]
    sensors: tuple[Sensor, ...]
    river_gauges: tuple[RiverGauge, ...]

    def sensors_of(self, kind: str) -> tuple[Sensor, ...]:
        return tuple(s for s in self.sensors if s.kind == kind)

    def district(self, district_id: str) -> District:
        return next(d for d in self.districts if d.district_id == district_id)

    def segment(self, segment_id: str) -> RoadSegment:
        return next(s for s in self.road_segments if s.segment_id == segment_id)

    def gauge(self, sensor_id: str) -> RiverGauge:
        return next(g for g in self.river_gauges if g.sensor_id == sensor_id)


def distance_km(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """Flat-earth distance: exact enough inside one city, and cheap."""
    dy = (a_lat - b_lat) * KM_PER_DEGREE_LAT
    dx = (a_lon - b_lon) * KM_PER_DEGREE_LAT * math.cos(math.radians(CITY_CENTRE[0]))
    return math.hypot(dx, dy)


def sensor_counts(total: int) -> dict[str, int]:
    """Split ``total`` over the kinds by :data:`KIND_SHARES` (largest remainder, at least one each)."""
    if total < _MIN_SENSORS:
        raise ValueError(f"a city needs at least {_MIN_SENSORS} sensors (one per kind), got {total}")
    exact = {kind: total * share for kind, share in KIND_SHARES.items()}
    counts = {kind: max(1, math.floor(value)) for kind, value in exact.items()}
    by_remainder = sorted(exact, key=lambda kind: exact[kind] - math.floor(exact[kind]), reverse=True)
    for kind in by_remainder[: max(0, total - sum(counts.values()))]:
        counts[kind] += 1
    while sum(counts.values()) > total:
        counts[max(counts, key=counts.__getitem__)] -= 1
    return counts


def build_city(seed: int = 42, sensors: int = 200) -> City:
    """A mid-sized city around 37.6N 126.7E with ``sensors`` IoT sensors; same seed, same city."""
    # Districts come from their own stream, so cities of different sizes share the same map.
    districts = _build_districts(np.random.default_rng([seed, 0]))
    rng = np.random.default_rng([seed, 1, sensors])
    counts = sensor_counts(sensors)
    if max(counts.values()) > MAX_SENSORS_PER_KIND:
        raise ValueError(
            f"at most {MAX_SENSORS_PER_KIND} sensors per kind: ids 9000-9999 are never registered"
        )
    segments = _build_segments(rng, districts, counts["traffic"])
    by_id = {d.district_id: d for d in districts}
    registry: list[Sensor] = []
    gauges: list[RiverGauge] = []
    # Round-robin over a shuffled district order spreads each kind evenly; river gauges share the
    # rain gauges' order, so every gauged river has a rain gauge beside it, as at real stations.
    orders = {kind: rng.permutation(len(districts)) for kind in SENSOR_KINDS}
    orders["river_level"] = orders["rain"]
    for kind, spec in SENSOR_KINDS.items():
        if kind == "traffic":
            homes = [(seg.district_id, seg.segment_id) for seg in segments[: counts[kind]]]
        else:
            order = orders[kind]
            homes = [(districts[order[i % len(districts)]].district_id, None) for i in range(counts[kind])]
        for number, (district_id, segment_id) in enumerate(homes, start=1):
            sensor = _place_sensor(rng, f"{spec.id_prefix}-{number:04d}", kind, by_id[district_id])
            registry.append(replace(sensor, segment_id=segment_id))
            if kind == "river_level":
                gauges.append(_gauge_thresholds(rng, sensor))
    return City(
        seed=seed,
        districts=tuple(districts),
        road_segments=tuple(sorted(segments, key=lambda seg: seg.segment_id)),
        sensors=tuple(registry),
        river_gauges=tuple(gauges),
    )


def _build_districts(rng: np.random.Generator) -> list[District]:
    count = int(rng.integers(8, 13))
    names = rng.permutation(_DISTRICT_NAMES)[:count]
    extra = rng.choice(
        list(_EXTRA_ZONE_WEIGHTS), size=count - 4, p=list(_EXTRA_ZONE_WEIGHTS.values())
    ).tolist()
    zones = rng.permutation(["residential", "commercial", "industrial", "quiet", *extra]).tolist()
    columns = math.ceil(math.sqrt(count))
    districts = []
    for index, (name, zone) in enumerate(zip(names, zones, strict=True)):
        row, column = divmod(index, columns)
        lat = CITY_CENTRE[0] + (row - 1.5) * 0.035 + rng.normal(0, 0.006)
        lon = CITY_CENTRE[1] + (column - 1.5) * 0.045 + rng.normal(0, 0.006)
        day_limit, night_limit = NOISE_LIMITS_DB[zone]
        districts.append(
            District(
                district_id=f"D{index + 1:02d}",
                name=str(name),
                zone_type=zone,
                lat=round(lat, 5),
                lon=round(lon, 5),
                population=int(rng.integers(*_POPULATION_RANGE[zone]) // 10 * 10),
                area_km2=round(float(rng.uniform(*_AREA_RANGE_KM2[zone])), 2),
                noise_limit_day_db=day_limit,
                noise_limit_night_db=night_limit,
            )
        )
    return districts


def _build_segments(rng: np.random.Generator, districts: list[District], loops: int) -> list[RoadSegment]:
    """At least three segments per district and a quarter more segments than loop detectors.

    Returned in random order: the first ``loops`` carry a detector, one each.
    """
    total = max(3 * len(districts), math.ceil(1.25 * loops))
    weight = np.array([d.population * _ROAD_DENSITY[d.zone_type] for d in districts], dtype=float)
    owners = [d for d in districts for _ in range(3)]
    owners += [
        districts[i] for i in rng.choice(len(districts), size=total - len(owners), p=weight / weight.sum())
    ]
    owners.sort(key=lambda d: d.district_id)
    segments = []
    per_district: dict[str, int] = {}
    for index, district in enumerate(owners, start=1):
        lanes = int(rng.choice(_LANES_CHOICES, p=[0.4, 0.4, 0.2]))
        per_district[district.district_id] = number = per_district.get(district.district_id, 0) + 1
        root = district.name.removesuffix("-dong")
        name = f"{root}-daero {number}" if lanes == 6 else f"{root}-ro {number}"
        segments.append(
            RoadSegment(
                segment_id=f"RS{index:03d}",
                district_id=district.district_id,
                name=name,
                lanes=lanes,
                speed_limit_kmh=_SPEED_LIMIT_BY_LANES[lanes],
                capacity_vph=lanes * _CAPACITY_PER_LANE_VPH,
                length_km=round(float(rng.uniform(0.3, 2.5)), 2),
            )
        )
    return [segments[i] for i in rng.permutation(len(segments))]


def _place_sensor(rng: np.random.Generator, sensor_id: str, kind: str, home: District) -> Sensor:
    installed = date(2016, 3, 1) + timedelta(days=int(rng.integers(0, 2800)))
    return Sensor(
        sensor_id=sensor_id,
        kind=kind,
        district_id=home.district_id,
        segment_id=None,
        lat=round(home.lat + float(rng.normal(0, 0.006)), 6),
        lon=round(home.lon + float(rng.normal(0, 0.008)), 6),
        installed_date=installed,
    )


def _gauge_thresholds(rng: np.random.Generator, sensor: Sensor) -> RiverGauge:
    normal = round(float(rng.uniform(0.8, 2.5)), 2)
    attention = round(normal + float(rng.uniform(1.5, 2.5)), 2)
    warning = round(attention + float(rng.uniform(0.8, 1.5)), 2)
    alarm = round(warning + float(rng.uniform(0.8, 1.5)), 2)
    return RiverGauge(
        sensor_id=sensor.sensor_id,
        district_id=sensor.district_id,
        river=str(rng.choice(_RIVERS)),
        normal_level_m=normal,
        attention_level_m=attention,
        warning_level_m=warning,
        alarm_level_m=alarm,
    )

"""The city registry: deterministic, complete, and consistent with the IoT contract."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from cityplatform.sensor_kinds import SENSOR_KINDS
from citysim import build_city, sensor_counts
from citysim.city import NOISE_LIMITS_DB, distance_km


@pytest.fixture(scope="module")
def city():
    return build_city(seed=42, sensors=200)


def test_same_seed_same_city_other_seed_other_city(city) -> None:
    assert build_city(seed=42, sensors=200) == city
    assert build_city(seed=43, sensors=200) != city


def test_city_size_changes_sensors_not_the_map(city) -> None:
    assert build_city(seed=42, sensors=20).districts == city.districts


def test_districts_cover_every_zone_with_korean_noise_limits(city) -> None:
    assert 8 <= len(city.districts) <= 12
    assert [d.district_id for d in city.districts] == [f"D{i:02d}" for i in range(1, len(city.districts) + 1)]
    assert {d.zone_type for d in city.districts} == {"residential", "commercial", "industrial", "quiet"}
    for district in city.districts:
        limits = (district.noise_limit_day_db, district.noise_limit_night_db)
        assert limits == NOISE_LIMITS_DB[district.zone_type]
        assert abs(district.lat - 37.6) < 0.15 and abs(district.lon - 126.7) < 0.15
        assert district.population > 0 and district.area_km2 > 0
    assert 200_000 < sum(d.population for d in city.districts) < 700_000


def test_sensor_count_is_split_over_kinds_with_traffic_largest(city) -> None:
    counts = Counter(s.kind for s in city.sensors)
    assert sum(counts.values()) == 200
    assert set(counts) == set(SENSOR_KINDS)
    assert counts.most_common(1)[0][0] == "traffic"
    assert counts == Counter(sensor_counts(200))


@pytest.mark.parametrize("total", [5, 6, 13, 200, 501])
def test_sensor_counts_add_up_with_one_of_each_kind_at_least(total: int) -> None:
    counts = sensor_counts(total)
    assert sum(counts.values()) == total
    assert min(counts.values()) >= 1


def test_too_few_sensors_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 5 sensors"):
        build_city(sensors=4)


def test_sensor_ids_follow_the_contract_and_sit_in_their_district(city) -> None:
    districts = {d.district_id: d for d in city.districts}
    assert len({s.sensor_id for s in city.sensors}) == len(city.sensors)
    for sensor in city.sensors:
        assert re.match(SENSOR_KINDS[sensor.kind].id_pattern, sensor.sensor_id)
        home = districts[sensor.district_id]
        assert distance_km(sensor.lat, sensor.lon, home.lat, home.lon) < 5
    for kind, spec in SENSOR_KINDS.items():
        ids = [s.sensor_id for s in city.sensors_of(kind)]
        assert ids == [f"{spec.id_prefix}-{n:04d}" for n in range(1, len(ids) + 1)]


def test_every_loop_detector_has_its_own_segment_in_its_district(city) -> None:
    segments = {seg.segment_id: seg for seg in city.road_segments}
    loops = city.sensors_of("traffic")
    assert len({s.segment_id for s in loops}) == len(loops)
    for loop in loops:
        assert segments[loop.segment_id].district_id == loop.district_id
    assert all(s.segment_id is None for s in city.sensors if s.kind != "traffic")
    for segment in city.road_segments:
        assert re.fullmatch(r"RS\d{3}", segment.segment_id)
        assert segment.capacity_vph > 0 and segment.lanes in (2, 4, 6) and segment.length_km > 0


def test_river_gauges_have_ordered_thresholds_inside_the_contract(city) -> None:
    level = SENSOR_KINDS["river_level"].measures[0]
    home = {s.sensor_id: s.district_id for s in city.sensors}
    assert [g.sensor_id for g in city.river_gauges] == [s.sensor_id for s in city.sensors_of("river_level")]
    for gauge in city.river_gauges:
        assert level.min < gauge.normal_level_m < gauge.attention_level_m < gauge.warning_level_m
        assert gauge.warning_level_m < gauge.alarm_level_m < level.max
        assert gauge.district_id == home[gauge.sensor_id]


@pytest.mark.parametrize("total", [5, 20, 200, 500])
def test_every_gauged_river_has_a_rain_gauge_in_its_district(total: int) -> None:
    small = build_city(seed=3, sensors=total)
    rain_districts = {s.district_id for s in small.sensors_of("rain")}
    assert {g.district_id for g in small.river_gauges} <= rain_districts

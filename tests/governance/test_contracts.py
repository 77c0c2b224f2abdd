"""Pandera contracts of IoT readings and the registry: all rows checked, errors name row and column."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandera.errors
import polars as pl
import pytest

from cityplatform.sensor_kinds import SENSOR_KINDS
from governance.contracts.iot import reading_schema, validate_readings
from governance.contracts.registry import RegistryContractError, validate_registry


def readings(**overrides: list[object]) -> pl.DataFrame:
    columns: dict[str, list[object]] = {
        "sensor_id": ["RG-0001", "RG-0002"],
        "kind": ["rain", "rain"],
        "observed_at": [datetime(2026, 11, 24, 0, 0, tzinfo=UTC)] * 2,
        "rainfall_mm": [0.0, 2.5],
    } | overrides
    return pl.DataFrame(columns).with_columns(pl.col("observed_at").dt.cast_time_unit("us"))


def test_valid_readings_pass() -> None:
    assert validate_readings("rain", readings()).height == 2


def test_every_failing_row_is_reported_not_a_sample() -> None:
    bad = readings(rainfall_mm=[-1.0, 999.0])
    with pytest.raises(pandera.errors.SchemaErrors) as info:
        validate_readings("rain", bad)
    assert sorted(info.value.failure_cases["index"].to_list()) == [0, 1]


def test_duplicate_reading_breaks_the_contract_unless_ingestion_resolves_it() -> None:
    twice = readings(sensor_id=["RG-0001", "RG-0001"])
    with pytest.raises(pandera.errors.SchemaErrors):
        validate_readings("rain", twice)
    assert validate_readings("rain", twice, unique_readings=False).height == 2


def test_id_pattern_and_kind_are_checked() -> None:
    with pytest.raises(pandera.errors.SchemaErrors, match="str_matches"):
        validate_readings("rain", readings(sensor_id=["RG-0001", "AQ-0001"]))


@pytest.mark.parametrize("kind", sorted(SENSOR_KINDS))
def test_every_kind_has_a_contract_covering_its_measures(kind: str) -> None:
    schema = reading_schema(kind)
    assert set(SENSOR_KINDS[kind].fields) == set(schema.columns)


def registry(**tables: pl.DataFrame) -> dict[str, pl.DataFrame]:
    base = {
        "districts": pl.DataFrame(
            {
                "district_id": ["D01"],
                "name": ["Central"],
                "zone_type": ["commercial"],
                "population": [50_000],
                "area_km2": [12.5],
                "lat": [37.6],
                "lon": [126.7],
                "noise_limit_day_db": [65.0],
                "noise_limit_night_db": [55.0],
            }
        ),
        "road_segments": pl.DataFrame(
            {
                "segment_id": ["RS001"],
                "district_id": ["D01"],
                "name": ["Main St"],
                "lanes": [2],
                "speed_limit_kmh": [50],
                "capacity_vph": [1800],
                "length_km": [1.2],
            }
        ),
        "sensors": pl.DataFrame(
            {
                "sensor_id": ["TL-0001", "WL-0001"],
                "kind": ["traffic", "river_level"],
                "district_id": ["D01", "D01"],
                "segment_id": ["RS001", None],
                "lat": [37.6, 37.61],
                "lon": [126.7, 126.71],
                "installed_date": [date(2020, 1, 1)] * 2,
            }
        ),
        "river_gauges": pl.DataFrame(
            {
                "sensor_id": ["WL-0001"],
                "district_id": ["D01"],
                "river": ["Han"],
                "normal_level_m": [1.0],
                "attention_level_m": [3.0],
                "warning_level_m": [4.0],
                "alarm_level_m": [5.0],
            }
        ),
    }
    return base | tables


def test_a_consistent_registry_passes() -> None:
    assert set(validate_registry(registry())) == {"districts", "road_segments", "sensors", "river_gauges"}


def test_a_dangling_foreign_key_names_table_row_and_column() -> None:
    sensors = registry()["sensors"].with_columns(pl.Series("district_id", ["D01", "D99"]))
    with pytest.raises(
        RegistryContractError, match=r"sensors.csv row 3 column district_id: 'D99' not in districts"
    ):
        validate_registry(registry(sensors=sensors))


def test_a_bad_value_names_table_row_and_column() -> None:
    gauges = registry()["river_gauges"].with_columns(pl.Series("warning_level_m", [9.0]))
    with pytest.raises(RegistryContractError, match=r"river_gauges.csv row 2: normal < attention < warning"):
        validate_registry(registry(river_gauges=gauges))
    sensors = registry()["sensors"].with_columns(pl.Series("lat", [37.6, 51.5]))
    with pytest.raises(RegistryContractError, match=r"sensors.csv row 3 column lat: in_range"):
        validate_registry(registry(sensors=sensors))

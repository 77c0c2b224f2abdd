"""Contracts of the IoT reference data (sensors, districts, road segments, river gauges).

Reference data is small and everything downstream joins to it, so a bad row fails the load with
the table, row and column named instead of being quarantined.
"""

from __future__ import annotations

import pandera.errors
import pandera.polars as pa
import polars as pl
from pandera.config import ValidationDepth, config_context

from cityplatform.sensor_kinds import SENSOR_KINDS

_ID_PREFIXES = "|".join(kind.id_prefix for kind in SENSOR_KINDS.values())
_LAT = pa.Check.in_range(33.0, 39.0)  # South Korea
_LON = pa.Check.in_range(124.0, 132.0)

REGISTRY_SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "sensors": pa.DataFrameSchema(
        {
            "sensor_id": pa.Column(
                pl.String, pa.Check.str_matches(rf"^({_ID_PREFIXES})-\d{{4}}$"), unique=True
            ),
            "kind": pa.Column(pl.String, pa.Check.isin(list(SENSOR_KINDS))),
            "district_id": pa.Column(pl.String),
            "segment_id": pa.Column(pl.String, nullable=True),
            "lat": pa.Column(pl.Float64, _LAT),
            "lon": pa.Column(pl.Float64, _LON),
            "installed_date": pa.Column(pl.Date),
        },
        name="sensor_registry",
        strict="filter",
    ),
    "districts": pa.DataFrameSchema(
        {
            "district_id": pa.Column(pl.String, unique=True),
            "name": pa.Column(pl.String),
            "zone_type": pa.Column(
                pl.String, pa.Check.isin(["residential", "commercial", "industrial", "quiet"])
            ),
            "population": pa.Column(pl.Int64, pa.Check.gt(0)),
            "area_km2": pa.Column(pl.Float64, pa.Check.gt(0)),
            "lat": pa.Column(pl.Float64, _LAT),
            "lon": pa.Column(pl.Float64, _LON),
            "noise_limit_day_db": pa.Column(pl.Float64, pa.Check.in_range(30, 90)),
            "noise_limit_night_db": pa.Column(pl.Float64, pa.Check.in_range(30, 90)),
        },
        name="districts",
        strict="filter",
    ),
    "road_segments": pa.DataFrameSchema(
        {
            "segment_id": pa.Column(pl.String, unique=True),
            "district_id": pa.Column(pl.String),
            "name": pa.Column(pl.String),
            "lanes": pa.Column(pl.Int64, pa.Check.in_range(1, 12)),
            "speed_limit_kmh": pa.Column(pl.Int64, pa.Check.in_range(10, 130)),
            "capacity_vph": pa.Column(pl.Int64, pa.Check.gt(0)),
            "length_km": pa.Column(pl.Float64, pa.Check.gt(0)),
        },
        name="road_segments",
        strict="filter",
    ),
    "river_gauges": pa.DataFrameSchema(
        {
            "sensor_id": pa.Column(pl.String, pa.Check.str_matches(r"^WL-\d{4}$"), unique=True),
            "district_id": pa.Column(pl.String),
            "river": pa.Column(pl.String),
            "normal_level_m": pa.Column(pl.Float64),
            "attention_level_m": pa.Column(pl.Float64),
            "warning_level_m": pa.Column(pl.Float64),
            "alarm_level_m": pa.Column(pl.Float64),
        },
        checks=[
            pa.Check(
                lambda data: data.lazyframe.select(
                    (pl.col("normal_level_m") < pl.col("attention_level_m"))
                    & (pl.col("attention_level_m") < pl.col("warning_level_m"))
                    & (pl.col("warning_level_m") < pl.col("alarm_level_m"))
                ),
                name="thresholds_ascend",
                error="normal < attention < warning < alarm level",
            )
        ],
        name="river_gauges",
        strict="filter",
    ),
}

# (table, column) -> (referenced table, referenced column): checked after each table passes alone.
FOREIGN_KEYS = {
    ("sensors", "district_id"): ("districts", "district_id"),
    ("sensors", "segment_id"): ("road_segments", "segment_id"),
    ("road_segments", "district_id"): ("districts", "district_id"),
    ("river_gauges", "sensor_id"): ("sensors", "sensor_id"),
    ("river_gauges", "district_id"): ("districts", "district_id"),
}


class RegistryContractError(ValueError):
    """Reference data broke its contract; the message names table, row and column."""


def validate_registry(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Every table against its schema (all rows), then every foreign key; raise naming the first rows."""
    valid: dict[str, pl.DataFrame] = {}
    problems: list[str] = []
    with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
        for name, schema in REGISTRY_SCHEMAS.items():
            try:
                valid[name] = schema.validate(tables[name], lazy=True)
            except pandera.errors.SchemaErrors as exc:
                for case in exc.failure_cases.head(10).iter_rows(named=True):
                    row = "" if case["index"] is None else f" row {case['index'] + 2}"
                    check, value = case["check"], case["failure_case"]
                    where = "" if case["schema_context"] == "DataFrameSchema" else f" column {case['column']}"
                    problems.append(f"{name}.csv{row}{where}: {check} failed ({value})")
    for (table, column), (ref_table, ref_column) in FOREIGN_KEYS.items():
        if table not in valid or ref_table not in valid:
            continue
        orphans = (
            valid[table]
            .with_row_index("row")
            .filter(
                pl.col(column).is_not_null() & ~pl.col(column).is_in(valid[ref_table][ref_column].implode())
            )
        )
        for row, value in orphans.select("row", column).head(10).iter_rows():
            problems.append(
                f"{table}.csv row {row + 2} column {column}: {value!r} not in {ref_table}.{ref_column}"
            )
    if problems:
        raise RegistryContractError("; ".join(problems))
    return valid

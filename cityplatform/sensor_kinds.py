"""The IoT feed catalogue: what each sensor kind sends, in which units, within which ranges.

One spec per kind drives everything that must agree on it: the Pandera contract that guards bronze
(``governance.contracts.iot``), the parser's expected fields (``ingestion``), and the simulator's
fault injection (an out-of-range fault is only out of range by this catalogue). It lives in the core
so that the simulator, ingestion and governance all read it without importing one another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import polars as pl

COMMON_FIELDS = ("sensor_id", "kind", "observed_at")
# A reading delivered in a slot starting more than this after its observed_at is quarantined as late.
MAX_LATENESS = timedelta(minutes=60)


@dataclass(frozen=True)
class Measure:
    name: str
    dtype: type[pl.DataType]
    unit: str
    min: float
    max: float
    description: str


@dataclass(frozen=True)
class SensorKind:
    name: str
    id_prefix: str
    description: str
    measures: tuple[Measure, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return COMMON_FIELDS + tuple(m.name for m in self.measures)

    @property
    def id_pattern(self) -> str:
        return rf"^{self.id_prefix}-\d{{4}}$"


SENSOR_KINDS: dict[str, SensorKind] = {
    kind.name: kind
    for kind in (
        SensorKind(
            "air_quality",
            "AQ",
            "Air-quality station: particulates and gases, 5-minute means.",
            (
                Measure("pm10", pl.Float64, "ug/m3", 0, 2000, "PM10 mass concentration"),
                Measure("pm25", pl.Float64, "ug/m3", 0, 1000, "PM2.5 mass concentration"),
                Measure("no2", pl.Float64, "ppm", 0, 2, "Nitrogen dioxide"),
                Measure("o3", pl.Float64, "ppm", 0, 1, "Ozone"),
            ),
        ),
        SensorKind(
            "noise",
            "NS",
            "Noise monitor: A-weighted equivalent and maximum level over 5 minutes.",
            (
                Measure("laeq_db", pl.Float64, "dB(A)", 20, 140, "Equivalent continuous level"),
                Measure("lamax_db", pl.Float64, "dB(A)", 20, 150, "Maximum level"),
            ),
        ),
        SensorKind(
            "traffic",
            "TL",
            "Inductive loop detector on a road segment, both directions, 5-minute totals.",
            (
                Measure("vehicle_count", pl.Int64, "vehicles", 0, 600, "Vehicles passed"),
                Measure("mean_speed_kmh", pl.Float64, "km/h", 0, 200, "Mean spot speed"),
                Measure("occupancy_pct", pl.Float64, "%", 0, 100, "Share of time the loop was occupied"),
            ),
        ),
        SensorKind(
            "rain",
            "RG",
            "Tipping-bucket rain gauge, 5-minute accumulation.",
            (Measure("rainfall_mm", pl.Float64, "mm", 0, 150, "Rain in the 5 minutes"),),
        ),
        SensorKind(
            "river_level",
            "WL",
            "River water-level gauge, stage above the gauge datum.",
            (Measure("level_m", pl.Float64, "m", -5, 30, "Water level"),),
        ),
    )
}


class QuarantineReason(StrEnum):
    """Why a landing line did not reach bronze, in order of precedence (first match wins)."""

    MALFORMED_JSON = "malformed_json"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    OUT_OF_RANGE = "out_of_range"
    UNKNOWN_SENSOR = "unknown_sensor"
    LATE_ARRIVAL = "late_arrival"
    DUPLICATE = "duplicate"

"""The IoT reading contract: the Pandera schema of each sensor kind's bronze readings.

Built from the catalogue in ``cityplatform.sensor_kinds``, so the contract, the parser and the
simulator's faults all agree on the same fields and ranges.
"""

from __future__ import annotations

from functools import cache

import pandera.polars as pa
import polars as pl

from cityplatform.sensor_kinds import SENSOR_KINDS
from governance.contracts import validate_every_row


@cache
def reading_schema(kind: str, *, unique_readings: bool = True) -> pa.DataFrameSchema:
    """The Pandera contract of one kind's bronze readings (typed, after parsing; built once).

    ``unique_readings=False`` leaves out the one-reading-per-sensor-and-time rule, for ingestion,
    which resolves duplicates itself (keeping the first delivery) before anything is written.
    """
    spec = SENSOR_KINDS[kind]
    columns: dict[str, pa.Column] = {
        "sensor_id": pa.Column(
            pl.String,
            pa.Check.str_matches(spec.id_pattern),
            nullable=False,
            description="Registry id of the sensor",
        ),
        "kind": pa.Column(pl.String, pa.Check.isin([kind]), nullable=False),
        "observed_at": pa.Column(
            pl.Datetime("us", "UTC"), nullable=False, description="Start of the 5-minute interval"
        ),
    }
    for measure in spec.measures:
        columns[measure.name] = pa.Column(
            measure.dtype,
            pa.Check.in_range(measure.min, measure.max),
            nullable=False,
            description=f"{measure.description} [{measure.unit}]",
            metadata={"unit": measure.unit},
        )
    return pa.DataFrameSchema(
        columns,
        name=f"iot_{kind}_reading",
        unique=["sensor_id", "observed_at"] if unique_readings else None,
        strict="filter",
        description=spec.description,
    )


def validate_readings(kind: str, frame: pl.DataFrame, *, unique_readings: bool = True) -> pl.DataFrame:
    """Validate every row (schema and data, not a sample); raises ``SchemaErrors`` listing all."""
    return validate_every_row(reading_schema(kind, unique_readings=unique_readings), frame)

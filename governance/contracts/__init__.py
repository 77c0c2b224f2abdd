"""Pandera contracts of the platform's datasets, and how every one of them is checked."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.config import ValidationDepth, config_context


def validate_every_row(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> pl.DataFrame:
    """Schema and data of every row, not a sample; raises ``SchemaErrors`` listing every failure."""
    with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
        return schema.validate(frame, lazy=True)

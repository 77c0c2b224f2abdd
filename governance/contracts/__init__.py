"""Pandera contracts of the platform's datasets, and how every one of them is checked."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from pathlib import Path

import pandera.errors
import pandera.polars as pa
import polars as pl
import pyarrow.parquet as pq
from pandera.config import ValidationDepth, config_context

# Re-readable chunks of one table: called once to validate them, again only to gather duplicates.
Chunks = Callable[[], Iterable[pl.DataFrame]]
# Rows of a table held at a time when it is checked from a file: memory follows this, not the table.
CHUNK_ROWS = 250_000


def validate_every_row(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> pl.DataFrame:
    """Schema and data of every row, not a sample; raises ``SchemaErrors`` listing every failure."""
    with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
        return schema.validate(frame, lazy=True)


def parquet_chunks(path: Path, rows: int = CHUNK_ROWS) -> Chunks:
    """A local parquet file as chunks of at most ``rows`` rows, read again at each call."""
    return lambda: (
        pl.DataFrame(pl.from_arrow(batch)) for batch in pq.ParquetFile(path).iter_batches(batch_size=rows)
    )


def chunked_failure_cases(schema: pa.DataFrameSchema, chunks: Chunks) -> tuple[int, pl.DataFrame | None]:
    """Rows checked and Pandera's failure cases of the table ``chunks()`` yields, as validating it
    whole gives them (row indices counted over the whole table), holding one chunk at a time.

    Rules of a row (or of the schema) are checked chunk by chunk, a schema-level failure reported
    once. The table-wide rule, ``unique`` columns, is checked on a 64-bit hash of those columns per
    row (8 bytes a row); only when some hashes repeat are those rows gathered whole and validated
    against the rule, which also sets aside a hash that two different keys share.
    """
    unique = list(schema.unique or [])
    per_row = copy.copy(schema)
    per_row.unique = None
    rows = 0
    keys: list[pl.Series] = []
    cases: list[pl.DataFrame] = []
    for chunk in chunks():
        if (found := _failure_cases(per_row, chunk)) is not None:
            if rows:  # schema-level failures (no row index) are the first chunk's again
                found = found.filter(pl.col("index").is_not_null())
            cases.append(found.with_columns(pl.col("index") + rows))
        if unique and set(unique) <= set(chunk.columns):
            keys.append(chunk.select(pl.struct(unique).hash()).to_series())
        rows += chunk.height
    repeated = pl.concat(keys).is_duplicated().arg_true() if keys else None
    del keys
    if repeated is not None and repeated.len():
        offset, gathered = 0, []
        for chunk in chunks():
            inside = repeated.filter((repeated >= offset) & (repeated < offset + chunk.height))
            gathered.append(chunk[(inside - offset).to_list()])
            offset += chunk.height
        uniqueness = pa.DataFrameSchema(name=schema.name, unique=unique)
        if (found := _failure_cases(uniqueness, pl.concat(gathered))) is not None:
            cases.append(
                found.with_columns(repeated.gather(found["index"]).cast(found.schema["index"]).alias("index"))
            )
    return rows, pl.concat(cases) if cases else None


def _failure_cases(schema: pa.DataFrameSchema, frame: pl.DataFrame) -> pl.DataFrame | None:
    try:
        validate_every_row(schema, frame)
    except pandera.errors.SchemaErrors as exc:
        return exc.failure_cases
    return None

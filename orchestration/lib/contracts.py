"""Contract checks, one helper for every domain: what an asset wrote, read back from S3, against its
Pandera contracts, every row (IoT bronze readings: one contract per sensor kind; each CCTV table: one).

The check's metadata names every rule it tested with the rows that broke it (``contract_rules``), which
the UI lists and lineage reports as data-quality assertions of the dataset. A failing check also keeps
Pandera's failure cases in S3 and links them, so a steward can see which rows broke which rule long
after the run's logs are gone. A table validated before it was written (the sensor registry) carries
the same ``contract_rules``, all met (``passed_contract``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import dagster as dg
import pandera.errors
import pandera.polars as pa
import polars as pl
import pyarrow.parquet as pq

from cityplatform.layout import contract_failures_key
from cityplatform.objectstore import QUARANTINE, ObjectStore, parquet_bytes
from governance.contracts import validate_every_row
from governance.lineage.quality import RuleOutcome, rule_outcomes
from orchestration.lib.metadata import plain

CONTRACT_RULES = "contract_rules"


def rules_in(metadata: Mapping[str, Any]) -> list[RuleOutcome]:
    """The rule outcomes a result's metadata carries (none when it names no contract)."""
    return [RuleOutcome(**outcome) for outcome in plain(metadata.get(CONTRACT_RULES)) or []]


def contract_columns(schema: pa.DataFrameSchema) -> dg.TableSchema:
    """The contract's columns as Dagster shows them (``dagster/column_schema``)."""
    columns = schema.columns.items()
    return dg.TableSchema(
        columns=[dg.TableColumn(name, str(c.dtype), description=c.description) for name, c in columns]
    )


def passed_contract(schema: pa.DataFrameSchema) -> dict[str, dg.MetadataValue]:
    """Metadata of a table that met ``schema`` before it was written: every rule, met, and the
    contract's columns as Dagster shows them."""
    return {
        **_rules_metadata(rule_outcomes(schema)),
        "dagster/column_schema": dg.MetadataValue.table_schema(contract_columns(schema)),
    }


# Re-readable chunks of one table: called once to validate them, again only to gather duplicates.
Chunks = Callable[[], Iterable[pl.DataFrame]]


def contract_check(
    store: ObjectStore,
    asset_key: dg.AssetKey,
    partition: str,
    tables: Iterable[tuple[pa.DataFrameSchema, pl.DataFrame | Chunks]],
) -> dg.AssetCheckResult:
    """The ``contract`` check of ``asset_key``: each table against its contract, every row. A table
    given as chunks is validated chunk by chunk (:func:`chunked_failure_cases`), so the check's
    memory follows a chunk, not the table."""
    rows = 0
    outcomes: list[RuleOutcome] = []
    cases: list[pl.DataFrame] = []
    for schema, table in tables:
        chunks: Chunks = (lambda frame=table: [frame]) if isinstance(table, pl.DataFrame) else table
        checked, found = chunked_failure_cases(schema, chunks)
        rows += checked
        if found is not None:
            as_text = found.select(pl.all().cast(pl.String, strict=False))  # a failure can be of any type
            cases.append(as_text.with_columns(contract=pl.lit(schema.name)))
        outcomes += rule_outcomes(schema, found)
    metadata: dict[str, Any] = {"rows_checked": rows, "failures_by_check": {}, **_rules_metadata(outcomes)}
    if cases:
        evidence = pl.concat(cases, how="diagonal")
        by_check = evidence.group_by("contract", "column", "check", maintain_order=True).len()
        metadata["failures_by_check"] = {
            f"{c}: {column}: {check}": n for c, column, check, n in by_check.iter_rows()
        }
        metadata["failure_cases"] = _keep_failure_cases(store, asset_key, partition, evidence)
    return dg.AssetCheckResult(
        check_name="contract", asset_key=asset_key, passed=not cases, metadata=metadata
    )


def parquet_chunks(path: Path, rows: int) -> Chunks:
    """A local parquet file as chunks of at most ``rows`` rows, read again at each call."""
    return lambda: (
        pl.DataFrame(pl.from_arrow(batch)) for batch in pq.ParquetFile(path).iter_batches(batch_size=rows)
    )


def chunked_failure_cases(schema: pa.DataFrameSchema, chunks: Chunks) -> tuple[int, pl.DataFrame | None]:
    """Rows checked and Pandera's failure cases of the table ``chunks()`` yields, as validating it
    whole gives them (row indices counted over the whole table), holding one chunk at a time.

    Rules of a row (or of the schema) are checked chunk by chunk, a schema-level failure reported
    once. The table-wide rule, ``unique`` columns, is checked on those columns alone; only when
    some repeat are their whole rows gathered and validated against the rule, for the same evidence.
    """
    unique = list(schema.unique or [])
    per_row = copy.copy(schema)
    per_row.unique = None
    rows = 0
    keys: list[pl.DataFrame] = []
    cases: list[pl.DataFrame] = []
    for chunk in chunks():
        if (found := _failure_cases(per_row, chunk)) is not None:
            if rows:  # schema-level failures (no row index) are the first chunk's again
                found = found.filter(pl.col("index").is_not_null())
            cases.append(found.with_columns(pl.col("index") + rows))
        if unique and set(unique) <= set(chunk.columns):
            keys.append(chunk.select(unique))
        rows += chunk.height
    repeated = (
        pl.concat(keys).select(pl.struct(unique).is_duplicated()).to_series().arg_true() if keys else None
    )
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


def _rules_metadata(outcomes: Iterable[RuleOutcome]) -> dict[str, dg.MetadataValue]:
    return {CONTRACT_RULES: dg.MetadataValue.json([asdict(outcome) for outcome in outcomes])}


def _keep_failure_cases(
    store: ObjectStore, asset_key: dg.AssetKey, partition: str, failure_cases: pl.DataFrame
) -> dg.MetadataValue:
    """Write the failure cases where a steward finds them and link to them."""
    key = contract_failures_key(asset_key.to_user_string(), partition)
    store.put_bytes(QUARANTINE, key, parquet_bytes(failure_cases))
    return dg.MetadataValue.path(f"s3://{QUARANTINE}/{key}")

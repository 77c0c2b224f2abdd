"""Contract checks, one helper for every domain: what an asset wrote, read back from S3, against its
Pandera contracts, every row (IoT bronze readings: one contract per sensor kind; each CCTV table: one).

The check's metadata names every rule it tested with the rows that broke it (``contract_rules``), which
the UI lists and lineage reports as data-quality assertions of the dataset. A failing check also keeps
Pandera's failure cases in S3 and links them, so a steward can see which rows broke which rule long
after the run's logs are gone. A table validated before it was written (the sensor registry) carries
the same ``contract_rules``, all met (``passed_contract``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import date
from typing import Any

import dagster as dg
import pandera.polars as pa
import polars as pl

from cityplatform.layout import contract_failures_key
from cityplatform.objectstore import QUARANTINE, ObjectStore, parquet_bytes
from governance.contracts import Chunks, chunked_failure_cases
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


def contract_check(
    store: ObjectStore,
    asset_key: dg.AssetKey,
    partition: str,
    day: date,
    tables: Iterable[tuple[pa.DataFrameSchema, pl.DataFrame | Chunks]],
) -> dg.AssetCheckResult:
    """The ``contract`` check of ``asset_key``: each table against its contract, every row (``day``:
    the local day of the partition's rows, which dates the failure cases kept). A table given as
    chunks is validated chunk by chunk (:func:`chunked_failure_cases`), so the check's memory
    follows a chunk, not the table."""
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
        metadata["failure_cases"] = _keep_failure_cases(store, asset_key, partition, day, evidence)
    return dg.AssetCheckResult(
        check_name="contract", asset_key=asset_key, passed=not cases, metadata=metadata
    )


def _rules_metadata(outcomes: Iterable[RuleOutcome]) -> dict[str, dg.MetadataValue]:
    return {CONTRACT_RULES: dg.MetadataValue.json([asdict(outcome) for outcome in outcomes])}


def _keep_failure_cases(
    store: ObjectStore, asset_key: dg.AssetKey, partition: str, day: date, failure_cases: pl.DataFrame
) -> dg.MetadataValue:
    """Write the failure cases where a steward finds them and link to them. They copy rows that may
    be personal, so retention keeps them for the asset's own period (``contract_failures_prefix``)."""
    key = contract_failures_key(asset_key.to_user_string(), day, partition)
    store.put_bytes(QUARANTINE, key, parquet_bytes(failure_cases))
    return dg.MetadataValue.path(f"s3://{QUARANTINE}/{key}")

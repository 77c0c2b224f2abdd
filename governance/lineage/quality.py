"""Pandera contract results as OpenLineage data-quality assertions: one per rule, pass or fail.

A reviewer sees which rule of which contract a dataset met (``in_range(0, 150)`` on ``rainfall_mm``
of ``iot_rain_reading``), not only that "the contract check" passed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandera.polars as pa
import polars as pl
from openlineage.client.facet_v2 import data_quality_assertions_dataset as dqa

_DATASET_LEVEL = "DataFrameSchema"


def _failures(failure_cases: pl.DataFrame | None) -> Counter[tuple[str | None, str]]:
    """Failing rows per (column, rule); dataset-level rules have no column."""
    if failure_cases is None or failure_cases.is_empty():
        return Counter()
    rows = failure_cases.select("schema_context", "column", "check").iter_rows()
    return Counter((None if context == _DATASET_LEVEL else column, check) for context, column, check in rows)


def _rules(schema: pa.DataFrameSchema) -> list[tuple[str, str, str | None]]:
    """(classification, rule as Pandera reports it, column or None) for every rule of the contract."""
    rules: list[tuple[str, str, str | None]] = []
    for name, column in schema.columns.items():
        rules.append(("dtype", f"dtype('{column.dtype}')", name))
        if not column.nullable:
            rules.append(("not_null", "not_nullable", name))
        if column.unique:
            rules.append(("unique", "field_uniqueness", name))
        rules += [(check.name, check.error, name) for check in column.checks]
    if schema.unique:
        rules.append(("unique", "multiple_fields_uniqueness", None))
    rules += [(check.name, check.error, None) for check in schema.checks]
    return rules


@dataclass(frozen=True)
class RuleOutcome:
    """One rule of a contract and the rows that broke it: plain data, so that a check's metadata can
    carry it to the UI and to lineage (``dataclasses.asdict`` and back)."""

    contract: str
    kind: str  # what sort of rule: dtype, not_null, unique, or the check's name (in_range, ...)
    rule: str  # as Pandera reports it: in_range(0, 150)
    column: str | None  # None: a rule on the whole table
    failing_rows: int


def rule_outcomes(schema: pa.DataFrameSchema, failure_cases: pl.DataFrame | None = None) -> list[RuleOutcome]:
    """Every rule of ``schema``; a rule fails when ``failure_cases`` (from ``SchemaErrors``) name it."""
    failing = _failures(failure_cases)
    contract = schema.name or "contract"
    return [
        RuleOutcome(contract, kind, rule, column, failing[(column, rule)])
        for kind, rule, column in _rules(schema)
    ]


def rule_assertion(outcome: RuleOutcome, severity: str = "error") -> dqa.Assertion:
    return dqa.Assertion(
        assertion=outcome.kind,
        success=outcome.failing_rows == 0,
        column=outcome.column,
        name=outcome.rule,
        severity=severity,
        actual=f"{outcome.failing_rows} failing rows" if outcome.failing_rows else None,
        params={"contract": outcome.contract},
    )

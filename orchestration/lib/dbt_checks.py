"""dbt data tests as Dagster checks that explain themselves: a short name (``not_null__local_date``,
``accepted_range__cai``) instead of dbt's generated one (test, model, column and arguments run
together: ``accepted_range_fct_air_quality_hourly_cai__500__0``), and a description that says what
the test asserts, on which column, with which severity and what a failure does.

The names are given in the manifest handed to ``@dbt_assets``, not only in the translator's check
spec: dagster-dbt keys a test's result by the test node's ``name`` in that manifest
(``get_asset_check_key_for_test``), so a check renamed in its spec alone would never receive a
result. dbt itself selects tests by their ``fqn``, which keeps dbt's name (``fqn[-1]``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

# Dagster shows longer check names cut; a name that would be longer is the test's kind alone.
MAX_NAME = 63
_REFERENCE = re.compile(r"^(?:ref|source)\((?P<args>.*)\)$")


def readable_test_names(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """``manifest`` with each generic data test named ``<test>__<column(s)>`` (or ``<test>`` where
    that passes :data:`MAX_NAME`). Names must be unique per tested node (a check key is its asset's
    key and its name): tests whose short names would collide keep dbt's name, as singular tests do."""
    tests = {uid: node for uid, node in manifest["nodes"].items() if node["resource_type"] == "test"}
    short = {uid: _short_name(node) for uid, node in tests.items()}
    per_node = Counter((node.get("attached_node"), short[uid]) for uid, node in tests.items())
    nodes = dict(manifest["nodes"])
    for uid, node in tests.items():
        if per_node[(node.get("attached_node"), short[uid])] == 1:
            nodes[uid] = {**node, "name": short[uid]}
    return {**manifest, "nodes": nodes}


def _short_name(test: Mapping[str, Any]) -> str:
    metadata = test.get("test_metadata")
    if not metadata:  # a singular test: its file name, which someone chose
        return test["name"]
    columns = _columns(test)
    named = "__".join([metadata["name"], *columns])
    return named if len(named) <= MAX_NAME else metadata["name"]


def _columns(test: Mapping[str, Any]) -> list[str]:
    kwargs = test["test_metadata"].get("kwargs", {})
    column = test.get("column_name") or kwargs.get("column_name")
    return [column] if column else list(kwargs.get("columns", []))


def check_description(test: Mapping[str, Any]) -> str:
    """What the test asserts, on which column(s), its severity and what a failure does, and dbt's
    own name for it (``dbt test --select`` takes it)."""
    severity = str(test.get("config", {}).get("severity") or "error").lower()
    effect = (
        "a failure blocks the assets downstream"
        if severity == "error"
        else "a failure is reported and blocks nothing"
    )
    where = test.get("config", {}).get("where")
    parts = [
        test.get("description") or _assertion(test),
        f"Only rows where `{where}`." if where else "",
        f"Severity {severity}: {effect}.",
        f"dbt test `{test['fqn'][-1]}`.",
    ]
    return " ".join(part for part in parts if part)


def _assertion(test: Mapping[str, Any]) -> str:
    metadata = test.get("test_metadata")
    if not metadata:
        return "Singular dbt test: every row its SQL returns is a failure."
    kind, kwargs = metadata["name"], metadata.get("kwargs", {})
    column = _listed(_columns(test))
    if kind == "not_null":
        return f"{column} is never null."
    if kind == "unique":
        return f"No two rows share a {column}."
    if kind == "accepted_values":
        return f"{column} is one of {', '.join(_code(v) for v in kwargs['values'])}."
    if kind == "accepted_range":
        return f"Every non-null {column} {_range(kwargs.get('min_value'), kwargs.get('max_value'))}."
    if kind == "relationships":
        return f"Every {column} is a {_code(kwargs['field'])} of {_code(_referenced(kwargs['to']))}."
    if kind == "primary_key" and len(_columns(test)) == 1:
        return f"{column} is the key: never null, never twice."
    if kind == "primary_key":
        return f"{column} is the key: no null in any of them, no combination twice."
    if kind == "unique_combination":
        return f"No two rows share the same {column}."
    arguments = ", ".join(
        f"{k}={v}" for k, v in kwargs.items() if k not in {"model", "column_name", "columns"}
    )
    return f"dbt test {_code(kind)} on {column}" + (f" ({arguments})." if arguments else ".")


def _listed(columns: list[str]) -> str:
    if not columns:
        return "the table"
    return _code(columns[0]) if len(columns) == 1 else "(" + ", ".join(map(_code, columns)) + ")"


def _range(low: object, high: object) -> str:
    if low is not None and high is not None:
        return f"lies between {low} and {high} (inclusive)"
    return f"is at least {low}" if low is not None else f"is at most {high}"


def _referenced(to: str) -> str:
    """``ref('dim_districts')`` -> ``dim_districts``; ``source('iot', 'readings')`` -> ``iot.readings``."""
    match = _REFERENCE.match(to.strip())
    if match is None:
        return to
    return ".".join(arg.strip().strip("'\"") for arg in match["args"].split(","))


def _code(value: object) -> str:
    return f"`{value}`"

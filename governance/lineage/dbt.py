"""dbt artifacts as lineage: column lineage from compiled SQL, dbt test results as assertions.

Dataset-level lineage of a model is its ``depends_on.nodes`` in ``manifest.json`` (in Dagster, the
model asset's deps, which dagster-dbt derives from the same field). Column lineage is derived from
the model's compiled SQL with sqlglot, using the columns the manifest declares for its upstream
relations: an output column depends DIRECTLY on the upstream columns its expression reads
(subtype IDENTITY when passed through unchanged, AGGREGATION under an aggregate, TRANSFORMATION
otherwise). A source read as files (``read_parquet('s3://...')``, the source's ``meta.glob`` or
``external_location`` naming them) is traced as that source.

Best effort: a column computed from no column (``count(*)``) or read through ``select *`` of an
upstream whose columns are not declared has no entry; columns used only to filter, join or group
(INDIRECT lineage) are not derived; SQL that sqlglot cannot parse gives no facet.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

import sqlglot
from openlineage.client.facet_v2 import column_lineage_dataset as cl
from openlineage.client.facet_v2 import data_quality_assertions_dataset as dqa
from sqlglot import exp
from sqlglot.lineage import Node, lineage

from governance.lineage.facets import Column
from governance.lineage.naming import PRODUCER, DatasetId

log = logging.getLogger(__name__)
Manifest = Mapping[str, Any]


def node(manifest: Manifest, unique_id: str) -> Mapping[str, Any]:
    return manifest["nodes"].get(unique_id) or manifest["sources"][unique_id]


def model_columns(manifest: Manifest, unique_id: str) -> list[Column]:
    """The columns a model declares (its contract), with types and descriptions."""
    return [
        Column(name, column.get("data_type") or None, column.get("description") or None)
        for name, column in node(manifest, unique_id).get("columns", {}).items()
    ]


def _qualified_name(resource: Mapping[str, Any]) -> str:
    """``database.schema.identifier``, also for a source whose relation is a file path."""
    identifier = resource.get("identifier") or resource.get("alias") or resource["name"]
    return f"{resource['database']}.{resource['schema']}.{identifier}".lower()


def _upstream(manifest: Manifest, unique_id: str) -> dict[str, str]:
    """Qualified name -> unique id of each upstream model, seed, snapshot or source."""
    upstream = {}
    for parent in node(manifest, unique_id)["depends_on"]["nodes"]:
        resource = node(manifest, parent)
        if resource.get("relation_name"):
            upstream[_qualified_name(resource)] = parent
    return upstream


def _sql_schema(manifest: Manifest, unique_ids: list[str]) -> dict[str, Any]:
    """sqlglot's nested schema (catalog -> db -> table -> column -> type) of the declared columns."""
    schema: dict[str, Any] = {}
    for unique_id in unique_ids:
        resource = node(manifest, unique_id)
        columns = {name: c.get("data_type") or "unknown" for name, c in resource.get("columns", {}).items()}
        if columns:
            catalog, db, table = _qualified_name(resource).split(".")
            schema.setdefault(catalog, {}).setdefault(db, {})[table] = columns
    return schema


def _file_prefix(resource: Mapping[str, Any]) -> str | None:
    """The fixed start of the files a source is read from (its glob up to the first wildcard)."""
    relation = resource.get("relation_name") or ""
    path = relation.strip("'") if relation.startswith("'") else None  # an external location
    pattern = resource.get("meta", {}).get("glob") or resource.get("external_location") or path
    return re.split(r"[*?\[{]", pattern, maxsplit=1)[0] if pattern else None


def _read_sources_as_tables(tree: exp.Expression, manifest: Manifest, upstream: dict[str, str]) -> None:
    """Replace ``read_parquet([...])`` or ``'s3://...'`` of a source's files by its relation, in place."""
    prefixes = {
        prefix: relation
        for relation, unique_id in upstream.items()
        if (prefix := _file_prefix(node(manifest, unique_id)))
    }
    for table in list(tree.find_all(exp.Table)):
        if isinstance(table.this, exp.Func):
            paths = [literal.this for literal in table.this.find_all(exp.Literal) if literal.is_string]
        elif not table.db:  # a quoted path, as dbt-duckdb writes a source's external_location
            paths = [table.name]
        else:
            continue
        relation = next(
            (r for p, r in prefixes.items() if p and paths and all(x.startswith(p) for x in paths)), None
        )
        if relation is not None:
            table.replace(exp.to_table(relation, alias=table.alias or None))


def _table_key(table: exp.Table) -> str:
    return ".".join(part for part in (table.catalog, table.db, table.name) if part).lower()


def _paths(root: Node) -> Iterator[tuple[Node, list[exp.Expression]]]:
    """Each source column (leaf) with the expressions between it and the output column."""
    stack: list[tuple[Node, list[exp.Expression]]] = [(root, [])]
    while stack:
        current, trail = stack.pop()
        if not current.downstream:
            if isinstance(current.expression, exp.Table):
                yield current, trail
            continue
        stack += [(child, [*trail, current.expression]) for child in current.downstream]


def _subtype(trail: list[exp.Expression]) -> str:
    if any(expression.find(exp.AggFunc) for expression in trail):
        return "AGGREGATION"
    if all(isinstance(expression.unalias(), exp.Column) for expression in trail):
        return "IDENTITY"
    return "TRANSFORMATION"


def column_lineage(
    manifest: Manifest,
    unique_id: str,
    compiled_sql: str,
    dataset_of: Callable[[str], DatasetId | None],
    dialect: str = "duckdb",
) -> cl.ColumnLineageDatasetFacet | None:
    """Column lineage of one model; ``dataset_of(upstream unique id)`` names upstream datasets."""
    upstream = _upstream(manifest, unique_id)
    try:
        tree = sqlglot.parse_one(compiled_sql, dialect=dialect)
        _read_sources_as_tables(tree, manifest, upstream)
        nodes = lineage(None, tree, schema=_sql_schema(manifest, list(upstream.values())), dialect=dialect)
    except (sqlglot.errors.SqlglotError, ValueError, KeyError) as exc:
        log.warning("no column lineage for %s: %s", unique_id, exc)
        return None
    fields: dict[str, cl.Fields] = {}
    for column, root in nodes.items():
        inputs: dict[tuple[str, str, str], cl.InputField] = {}
        for leaf, trail in _paths(root):
            parent = upstream.get(_table_key(leaf.expression))
            dataset = dataset_of(parent) if parent else None
            if dataset is None:
                continue
            field = leaf.name.rsplit(".", 1)[-1]
            inputs.setdefault(
                (dataset.namespace, dataset.name, field),
                cl.InputField(
                    dataset.namespace,
                    dataset.name,
                    field,
                    transformations=[
                        cl.Transformation(type="DIRECT", subtype=_subtype(trail), masking=False)
                    ],
                ),
            )
        if inputs:
            fields[column] = cl.Fields(inputFields=list(inputs.values()))
    return cl.ColumnLineageDatasetFacet(fields=fields, producer=PRODUCER) if fields else None


def dbt_test_assertion(
    manifest: Manifest, unique_id: str, status: str, failures: int | None
) -> dqa.Assertion:
    """A dbt test's result (``pass``/``fail``/``warn``/``error``) as an assertion on its model."""
    test = manifest["nodes"][unique_id]
    metadata = test.get("test_metadata") or {}
    return dqa.Assertion(
        assertion=metadata.get("name") or "custom_sql",
        success=status == "pass",
        column=test.get("column_name") or None,
        severity=str(test.get("config", {}).get("severity", "error")).lower(),
        name=test["name"],
        actual=None if failures is None else f"{failures} failing rows",
        content=test.get("raw_code") or None,
        contentType="sql" if test.get("raw_code") else None,
    )


def tested_node(manifest: Manifest, unique_id: str) -> str | None:
    """The model (or seed, snapshot, source) a dbt test is attached to."""
    return manifest["nodes"][unique_id].get("attached_node")


def passes_on_personal(
    facet: cl.ColumnLineageDatasetFacet, personal: Callable[[DatasetId], Collection[str]]
) -> list[str]:
    """The output columns of ``facet`` that still hold personal data: derived DIRECTLY from a personal
    column (``personal(dataset)`` names a dataset's) unchanged (IDENTITY) or transformed
    (TRANSFORMATION: a cast, a truncated timestamp, a hash still singles a person out), unmasked.

    The rule for aggregation: a column derived from personal columns only under an aggregate (count,
    sum, avg, ... over the rows of a group) no longer describes one person and is not tagged. The
    platform states no group-size threshold beyond that: a model aggregating personal rows into
    groups small enough to single someone out must be classified ``personal`` in the registry."""
    found = []
    for column, fields in facet.fields.items():
        for source in fields.inputFields:
            ways = {(t.subtype, bool(t.masking)) for t in source.transformations or ()}
            passed_on = any(subtype != "AGGREGATION" and not masked for subtype, masked in ways)
            if passed_on and source.field in personal(DatasetId(source.namespace, source.name)):
                found.append(column)
                break
    return found

"""OpenLineage for dbt assets: each model is its own run, each dbt test a run that reads its model.

Put ``@emits_dbt_lineage`` between ``@dbt_assets`` and a body that returns its dbt invocation (the
wrapper streams its events in place of ``invocation.stream()``)::

    @dbt_assets(manifest=...)
    @emits_dbt_lineage
    def models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> DbtCliInvocation:
        return dbt.cli(["build"], context=context)

dbt's structured log says when each node starts and how it ended, so a model's START goes out
when dbt starts building it and its COMPLETE (with column lineage from its compiled SQL) or FAIL
when dbt reports its result; models dbt skipped get no run. A model's column that passes on a
personal column of what it reads (``governance.lineage.dbt.passes_on_personal``: unchanged or
transformed, not only aggregated) is tagged ``pii`` like the registry's personal columns; models
are built upstream first, so a model's tags reach the models that read it in the same step.
A test's result is an assertion on its model, sent as the test's own run with the model as input
(``inputFacets``), the way OpenLineage's dbt integration reports tests, since tests run after the
model's COMPLETE.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliInvocation
from openlineage.client.event_v2 import InputDataset, RunState

from governance.lineage import dbt as dbt_lineage
from governance.lineage import facets
from governance.lineage.naming import DatasetId, warehouse_dataset
from orchestration.lib.lineage import AssetLineage, LineageResource, lineage_wrapper

MODEL_RESULTS = {"LogModelResult", "LogSeedResult", "LogSnapshotResult"}


class DbtNodeError(RuntimeError):
    """A dbt model that did not build, with dbt's own message."""


class _Dbt:
    """Maps between dbt nodes and the Dagster assets and datasets of one invocation."""

    def __init__(self, runs: AssetLineage, invocation: DbtCliInvocation) -> None:
        self.runs = runs
        self.invocation = invocation
        self.manifest: dict[str, Any] = invocation.manifest

    def key_of(self, unique_id: str) -> dg.AssetKey:
        props = dbt_lineage.node(self.manifest, unique_id)
        return self.invocation.dagster_dbt_translator.get_asset_key(props)

    def dataset_of(self, unique_id: str) -> DatasetId:
        key = self.key_of(unique_id)
        if self.runs.graph.has(key):
            return self.runs.dataset_of_key(key)
        return warehouse_dataset(dbt_lineage.node(self.manifest, unique_id)["relation_name"])

    def compiled_sql(self, unique_id: str) -> str | None:
        props = dbt_lineage.node(self.manifest, unique_id)
        path = self.invocation.target_path / "compiled" / props["package_name"] / props["original_file_path"]
        return path.read_text() if path.is_file() else None


def _model_key(dbt: _Dbt, unique_id: str) -> dg.AssetKey | None:
    if not unique_id.startswith(("model.", "seed.", "snapshot.")):
        return None
    key = dbt.key_of(unique_id)
    return key if key in dbt.runs.runs else None


def _finish_model(dbt: _Dbt, unique_id: str, key: dg.AssetKey, event: dict[str, Any]) -> None:
    status = event["data"]["node_info"].get("node_status")
    if status != "success":
        dbt.runs.fail(key, DbtNodeError(f"dbt {status}: {event['info'].get('msg', '')}".strip()))
        return
    run = dbt.runs.runs[key]
    run.materialised = True
    sql = dbt.compiled_sql(unique_id)
    lineage = sql and dbt_lineage.column_lineage(dbt.manifest, unique_id, sql, dbt.dataset_of)
    if lineage:
        run.extra_facets["columnLineage"] = lineage
        personal = dbt_lineage.passes_on_personal(lineage, dbt.runs.personal_columns)
        run.stewardship = replace(run.stewardship, derived_personal=personal)
    run.columns = run.columns or dbt_lineage.model_columns(dbt.manifest, unique_id)
    dbt.runs.complete(key)


def _test_run(dbt: _Dbt, unique_id: str, state: RunState, event: dict[str, Any] | None = None) -> None:
    """A dbt test as its own run: input = the tested dataset, result = an input assertion facet."""
    tested = dbt_lineage.tested_node(dbt.manifest, unique_id)
    if tested is None:
        return
    dataset = dbt.dataset_of(tested)
    input_facets: dict[str, Any] = {}
    if event is not None and state is RunState.COMPLETE:
        data = event["data"]
        assertion = dbt_lineage.dbt_test_assertion(
            dbt.manifest, unique_id, data["node_info"].get("node_status", ""), data.get("num_failures")
        )
        input_facets["dataQualityAssertions"] = facets.assertions_facet([assertion])
    run = dbt.runs.job_run(unique_id, facets.job_type_facets("DBT", "TEST"))
    dbt.runs.emitter.emit(
        state, run, [InputDataset(dataset.namespace, dataset.name, inputFacets=input_facets)]
    )


def stream_with_lineage(runs: AssetLineage, invocation: DbtCliInvocation) -> Iterator[Any]:
    """The invocation's Dagster events (as ``invocation.stream()`` yields them), emitting lineage."""
    dbt = _Dbt(runs, invocation)
    for message in invocation.stream_raw_events():
        event = message.raw_event
        name = event["info"]["name"]
        unique_id = event["data"].get("node_info", {}).get("unique_id")
        key = _model_key(dbt, unique_id) if unique_id else None
        if name == "LogStartLine" and key is not None:
            runs.start(key)
        elif name == "LogStartLine" and unique_id and unique_id.startswith("test."):
            _test_run(dbt, unique_id, RunState.START)
        yield from message.to_default_asset_events(
            manifest=invocation.manifest,
            dagster_dbt_translator=invocation.dagster_dbt_translator,
            context=invocation.context,
            target_path=invocation.target_path,
            project=invocation.project,
        )
        if name in MODEL_RESULTS and key is not None:
            _finish_model(dbt, unique_id, key, event)
        elif name == "LogTestResult" and unique_id:
            failed = event["data"]["node_info"].get("node_status") == "error"
            _test_run(dbt, unique_id, RunState.FAIL if failed else RunState.COMPLETE, event)


def emits_dbt_lineage(body: Callable[..., DbtCliInvocation]) -> Callable[..., Iterator[Any]]:
    """A ``@dbt_assets`` body that returns its dbt invocation, as one that streams the invocation's
    Dagster events with lineage: each model starts as dbt starts it and ends as dbt reports it. The
    body does not take ``lineage``: the signature Dagster reads adds it as a resource."""

    def stream(context: dg.AssetExecutionContext, *args: Any, lineage: LineageResource, **kwargs: Any):
        with lineage.track(context, start=False) as runs:
            yield from stream_with_lineage(runs, body(context, *args, **kwargs))

    return lineage_wrapper(body, stream, returns=Iterator[Any])

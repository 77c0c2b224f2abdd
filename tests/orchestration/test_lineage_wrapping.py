"""Lineage is emitted in one place: every asset of the code location is wrapped by ``emits_lineage``
(dbt assets by ``emits_dbt_lineage``), and what a body returns or yields is what lineage reports.

Small assets materialised in process with the real ``LineageResource``; the events are read back from
its local file transport and validated against the OpenLineage schemas.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import dagster as dg
import polars as pl
import pytest

from cityplatform.embedded_s3 import EmbeddedS3
from cityplatform.settings import load_settings
from governance.contracts.iot import reading_schema
from orchestration.definitions import defs
from orchestration.lib.contracts import contract_check, passed_contract
from orchestration.lib.lineage import (
    DELETED_FROM,
    LINEAGE_DATASETS,
    ROWS_BY_DATASET,
    LineageResource,
    emits_lineage,
    emits_lineage_for,
)
from orchestration.lib.resources import CityStorage
from tests.lineage_spec import event_errors

pytestmark = pytest.mark.integration

TABLE = dg.AssetKey(["lineage_test", "table"])
DELETER = dg.AssetKey(["lineage_test", "deleter"])
READINGS = dg.AssetKey(["lineage_test", "readings"])
COPY = dg.AssetKey(["lineage_test", "copy"])
PUBLISHED = dg.AssetKey(["lineage_test", "published"])


def test_every_asset_of_the_code_location_is_wrapped() -> None:
    assets = [
        assets_def
        for assets_def in defs().resolve_asset_graph().assets_defs
        if assets_def.keys and assets_def.is_executable and assets_def.is_materializable
    ]
    assert assets
    assert [a.op.name for a in assets if not emits_lineage_for(a)] == []
    assert all("lineage" in a.required_resource_keys for a in assets)


def test_every_check_judged_in_a_step_of_its_own_emits_its_run() -> None:
    """A check op beside its asset (``nothing_past_retention``, the ``steward_trained`` steps) is
    handed the lineage resource, which it judges through (``check_run``)."""
    check_ops = [
        assets_def
        for assets_def in defs().resolve_asset_graph().assets_defs
        if not assets_def.keys and assets_def.check_keys and assets_def.is_executable
    ]
    assert check_ops
    assert [c.node_def.name for c in check_ops if "lineage" not in c.required_resource_keys] == []


def test_a_body_that_takes_lineage_itself_is_refused() -> None:
    def body(context: dg.AssetExecutionContext, lineage: LineageResource) -> None: ...

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="lineage"):
        emits_lineage(body)


@dg.asset(key=TABLE, metadata={"dagster/uri": "s3://bronze/lineage-test/table/"})
@emits_lineage
def table(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={"dagster/row_count": 3, "bytes": 99, **passed_contract(reading_schema("rain"))}
    )


@dg.asset(key=DELETER, deps=[TABLE], metadata={"dagster/uri": "s3://governance/lineage-test/"})
@emits_lineage
def deleter(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    raise dg.Failure("S3 refused one", metadata={DELETED_FROM: ["s3://bronze/lineage-test/table/"]})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(READINGS, metadata={"dagster/uri": "s3://bronze/lineage-test/readings/"}),
        dg.AssetSpec(COPY, deps=[READINGS], metadata={"dagster/uri": "s3://bronze/lineage-test/copy/"}),
    ],
    check_specs=[dg.AssetCheckSpec("contract", asset=READINGS), dg.AssetCheckSpec("kept", asset=COPY)],
)
@emits_lineage
def readings(
    context: dg.AssetExecutionContext, storage: CityStorage
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    bad = pl.DataFrame({"sensor_id": ["RG-0001"], "kind": ["rain"], "rainfall_mm": [-3.0]})
    yield dg.MaterializeResult(asset_key=READINGS, metadata={"dagster/row_count": 1})
    yield contract_check(storage.store(), READINGS, "lineage-test", [(reading_schema("rain"), bad)])
    yield dg.MaterializeResult(
        asset_key=COPY, check_results=[dg.AssetCheckResult(asset_key=COPY, check_name="kept", passed=True)]
    )


@dg.asset(
    key=PUBLISHED,
    deps=[TABLE],
    metadata={
        "dagster/uri": "s3://marts-test/",
        LINEAGE_DATASETS: ["s3://marts-test/fct_a/", "s3://marts-test/fct_b/"],
    },
)
@emits_lineage
def published(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    rows = {"s3://marts-test/fct_a/": 2, "s3://marts-test/fct_b/": 5}
    return dg.MaterializeResult(metadata={"dagster/row_count": 7, ROWS_BY_DATASET: rows})


@pytest.fixture(scope="module")
def events(
    s3_server: EmbeddedS3, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[dict[str, Any]]]:
    """Every event of one run of the three test assets, by job, in emission order."""
    env = {
        "CITY_HOME": str(tmp_path_factory.mktemp("home")),
        "CITY_S3_ENDPOINT": s3_server.endpoint,
        "CITY_S3_ACCESS_KEY": s3_server.access_key,
        "CITY_S3_SECRET_KEY": s3_server.secret_key,
    }
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        definitions = dg.Definitions(
            assets=[table, deleter, readings, published],
            resources={"lineage": LineageResource(), "storage": CityStorage()},
        )
        job = definitions.resolve_implicit_global_asset_job_def()
        result = job.execute_in_process(raise_on_error=False)
        lines = [
            line
            for path in sorted(load_settings().lineage_dir.glob("events-*.jsonl"))
            for line in path.read_text().splitlines()
        ]
    assert not result.success  # deleter fails
    jobs: dict[str, list[dict[str, Any]]] = {}
    for event in map(json.loads, lines):
        jobs.setdefault(event["job"]["name"], []).append(event)
    return jobs


def assertions(emitted: list[dict[str, Any]]) -> dict[tuple[str | None, str], bool]:
    """What a check run's COMPLETE asserts about the dataset it read (an input facet)."""
    (tested,) = emitted[-1]["inputs"]
    found = tested["inputFacets"]["dataQualityAssertions"]["assertions"]
    return {(a.get("column"), a["name"]): a["success"] for a in found}


def test_quality_assertions_are_on_inputs_only(events: dict[str, list[dict[str, Any]]]) -> None:
    outputs = [o for emitted in events.values() for e in emitted for o in e.get("outputs", [])]
    assert outputs and not [o for o in outputs if "dataQualityAssertions" in o.get("facets", {})]


def test_every_event_is_valid_openlineage(events: dict[str, list[dict[str, Any]]]) -> None:
    for job, emitted in events.items():
        for event in emitted:
            assert event_errors(event) == [], job


def test_a_returned_result_with_a_met_contract_completes_with_counts_schema_and_rules(
    events: dict[str, list[dict[str, Any]]],
) -> None:
    start, complete = events["lineage_test/table"]
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    facets = complete["outputs"][0]["facets"]
    assert facets["dataQualityMetrics"]["rowCount"] == 3
    assert {"sensor_id", "rainfall_mm"} <= {f["name"] for f in facets["schema"]["fields"]}
    # its rules, met before it was written, are the run of its contract, which reads it afterwards
    contract = events["lineage_test/table:contract"]
    assert [e["eventType"] for e in contract] == ["START", "COMPLETE"]
    assert contract[-1]["run"]["facets"]["parent"] == complete["run"]["facets"]["parent"]
    assert contract[-1]["inputs"][0]["name"] == complete["outputs"][0]["name"]
    rules = assertions(contract)
    assert rules[("rainfall_mm", "in_range(0, 150)")] and all(rules.values())


def test_yielded_results_and_checks_are_each_assets_facets(events: dict[str, list[dict[str, Any]]]) -> None:
    readings_events, copy_events = events["lineage_test/readings"], events["lineage_test/copy"]
    assert [e["eventType"] for e in readings_events] == ["START", "COMPLETE"]
    assert [e["eventType"] for e in copy_events] == ["START", "COMPLETE"]
    rules = assertions(events["lineage_test/readings:contract"])
    assert rules[(None, "contract")] is False  # the check, and one assertion per rule it tested:
    assert rules[("rainfall_mm", "in_range(0, 150)")] is False
    assert rules[("sensor_id", "not_nullable")] is True
    assert assertions(events["lineage_test/copy:kept"]) == {(None, "kept"): True}  # in its result


def test_an_asset_that_writes_several_datasets_reports_each_with_its_rows(
    events: dict[str, list[dict[str, Any]]],
) -> None:
    start, complete = events["lineage_test/published"]
    assert [(o["namespace"], o["name"]) for o in start["outputs"]] == [
        ("s3://marts-test", "fct_a"),
        ("s3://marts-test", "fct_b"),
    ]
    rows = {o["name"]: o["outputFacets"]["outputStatistics"]["rowCount"] for o in complete["outputs"]}
    assert rows == {"fct_a": 2, "fct_b": 5}


def test_a_failure_reports_what_its_metadata_says_was_deleted_from(
    events: dict[str, list[dict[str, Any]]],
) -> None:
    start, fail = events["lineage_test/deleter"]
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert "S3 refused one" in fail["run"]["facets"]["errorMessage"]["message"]
    inputs = {d["name"]: d.get("facets", {}) for d in fail["inputs"]}
    truncated = inputs["lineage-test/table"]["lifecycleStateChange"]["lifecycleStateChange"]
    assert truncated == "TRUNCATE"
    assert [d["name"] for d in start["inputs"]] == ["lineage-test/table"]

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
from orchestration.lib.lineage import DELETED_FROM, LineageResource, emits_lineage, emits_lineage_for
from orchestration.lib.resources import CityStorage
from tests.lineage_spec import event_errors

pytestmark = pytest.mark.integration

TABLE = dg.AssetKey(["lineage_test", "table"])
DELETER = dg.AssetKey(["lineage_test", "deleter"])
READINGS = dg.AssetKey(["lineage_test", "readings"])
COPY = dg.AssetKey(["lineage_test", "copy"])


def test_every_asset_of_the_code_location_is_wrapped() -> None:
    assets = [
        assets_def
        for assets_def in defs().resolve_asset_graph().assets_defs
        if assets_def.keys and assets_def.is_executable and assets_def.is_materializable
    ]
    assert assets
    assert [a.op.name for a in assets if not emits_lineage_for(a)] == []
    assert all("lineage" in a.required_resource_keys for a in assets)


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
            assets=[table, deleter, readings],
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


def assertions(event: dict[str, Any]) -> dict[tuple[str | None, str], bool]:
    (output,) = event["outputs"]
    found = output["facets"]["dataQualityAssertions"]["assertions"]
    return {(a.get("column"), a["name"]): a["success"] for a in found}


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
    rules = assertions(complete)
    assert rules[("rainfall_mm", "in_range(0, 150)")] and all(rules.values())


def test_yielded_results_and_checks_are_each_assets_facets(events: dict[str, list[dict[str, Any]]]) -> None:
    readings_events, copy_events = events["lineage_test/readings"], events["lineage_test/copy"]
    assert [e["eventType"] for e in readings_events] == ["START", "COMPLETE"]
    assert [e["eventType"] for e in copy_events] == ["START", "COMPLETE"]
    rules = assertions(readings_events[-1])
    assert rules[(None, "contract")] is False  # the check, and one assertion per rule it tested:
    assert rules[("rainfall_mm", "in_range(0, 150)")] is False
    assert rules[("sensor_id", "not_nullable")] is True
    assert assertions(copy_events[-1]) == {(None, "kept"): True}  # a check embedded in its result


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

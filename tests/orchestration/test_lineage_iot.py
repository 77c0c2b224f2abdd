"""Real Dagster materialisations of the IoT jobs emit valid OpenLineage, read back for review.

Runs the registry and one day's ingestion on a test instance against the real S3 server, then
reads every event of those Dagster runs back from the S3 archive: START then COMPLETE per asset,
inputs = the upstream assets' datasets, facets from the asset and its checks; a day with no landing
data makes the first asset fail, which must give START then FAIL; and ``city lineage`` shows the
upstream and downstream of a dataset from those events. The module has an S3 server of its own:
``city lineage`` reads the whole archive, and the empty day must be empty.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from typer.testing import CliRunner

from cityapp.cli.main import app
from cityplatform.objectstore import LINEAGE, ObjectStore
from cityplatform.settings import load_settings
from citysim import build_city, write_iot_day
from orchestration.lib.lineage import LineageResource
from tests.lineage_spec import event_errors

pytestmark = [pytest.mark.integration, pytest.mark.own_s3]

DAY = date(2026, 4, 2)
EMPTY_DAY = date(2026, 4, 20)  # nothing simulated: the landing snapshot finds no objects
IOT_ASSETS = {
    "iot/raw/readings",
    "iot/bronze/readings",
    "iot/quarantine/readings",
    "iot/bronze/sensor_registry",
    "iot/bronze/districts",
    "iot/bronze/road_segments",
    "iot/bronze/river_gauges",
}


@pytest.fixture(scope="module")
def runs(
    definitions: dg.Definitions, store: ObjectStore, instance: dg.DagsterInstance
) -> dict[str, dg.ExecuteInProcessResult]:
    write_iot_day(
        store, build_city(seed=11, sensors=30), DAY, tz=load_settings().zone, seed=11, fault_rate=0.02
    )
    job = definitions.resolve_job_def
    results = {
        "registry": job("iot_registry").execute_in_process(instance=instance),
        "ingest": job("iot_ingest_day").execute_in_process(instance=instance, partition_key=DAY.isoformat()),
        "failing": job("iot_ingest_day").execute_in_process(
            instance=instance, partition_key=EMPTY_DAY.isoformat(), raise_on_error=False
        ),
    }
    assert results["registry"].success and results["ingest"].success
    assert not results["failing"].success
    return results


def events_of(store: ObjectStore, result: dg.ExecuteInProcessResult) -> list[dict[str, Any]]:
    """Every archived event whose parent run is this Dagster run, in emission order."""
    objects = list(store.list_objects(LINEAGE, "events/"))
    events = [json.loads(data) for data in store.get_many(objects)]
    mine = [e for e in events if _parent_run_id(e) == result.run_id]
    return sorted(mine, key=lambda e: datetime.fromisoformat(e["eventTime"]))


def by_job(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    jobs: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        jobs.setdefault(event["job"]["name"], []).append(event)
    return jobs


def output_facets(event: dict[str, Any]) -> dict[str, Any]:
    (output,) = event["outputs"]
    return output["facets"]


@pytest.fixture(scope="module")
def ingest_events(runs: dict[str, dg.ExecuteInProcessResult], store: ObjectStore) -> dict[str, list[dict]]:
    return by_job(events_of(store, runs["ingest"]) + events_of(store, runs["registry"]))


def test_every_event_of_a_real_materialisation_is_valid_openlineage(
    runs: dict[str, dg.ExecuteInProcessResult], store: ObjectStore
) -> None:
    events = [e for result in runs.values() for e in events_of(store, result)]
    assert len(events) >= 2 * len(IOT_ASSETS)
    for event in events:
        assert event_errors(event) == [], event["job"]["name"]


def test_each_asset_emits_start_then_complete_in_one_run_under_the_dagster_run(
    ingest_events: dict[str, list[dict]], runs: dict[str, dg.ExecuteInProcessResult]
) -> None:
    # each check a run of its own, after its asset's COMPLETE; contract rules: the contract's run
    contracts = {f"{asset}:contract" for asset in IOT_ASSETS if asset.startswith("iot/bronze/")}
    assert set(ingest_events) == (
        IOT_ASSETS
        | {f"{asset}:steward_trained" for asset in IOT_ASSETS}
        | contracts
        | {"iot/bronze/readings:reconciliation"}
    )
    for job, events in ingest_events.items():
        assert [e["eventType"] for e in events] == ["START", "COMPLETE"], job
        assert len({e["run"]["runId"] for e in events}) == 1
        parent = events[0]["run"]["facets"]["parent"]
        assert parent["job"]["name"] in {"iot_registry", "iot_ingest_day"}
        assert events[0]["job"]["namespace"] == "smart-city"
    started = ingest_events["iot/bronze/readings"][0]
    assert started["run"]["facets"]["nominalTime"]["nominalStartTime"].startswith(DAY.isoformat())


def test_each_steward_trained_check_is_a_run_reading_its_asset_with_its_result_as_an_assertion(
    ingest_events: dict[str, list[dict]], runs: dict[str, dg.ExecuteInProcessResult]
) -> None:
    """As OpenLineage's dbt integration reports a test: a run whose input carries the assertion."""
    passed = {
        e.asset_key.to_user_string(): e.passed
        for result in (runs["registry"], runs["ingest"])
        for e in result.get_asset_check_evaluations()
        if e.check_name == "steward_trained"
    }
    assert set(passed) == IOT_ASSETS
    for asset in IOT_ASSETS:
        start, complete = ingest_events[f"{asset}:steward_trained"]
        assert complete["job"]["facets"]["jobType"]["jobType"] == "ASSET_CHECK"
        (output,) = ingest_events[asset][-1]["outputs"]
        dataset = (output["namespace"], output["name"])
        for event in (start, complete):
            assert [(d["namespace"], d["name"]) for d in event["inputs"]] == [dataset]
        (assertion,) = complete["inputs"][0]["inputFacets"]["dataQualityAssertions"]["assertions"]
        assert (assertion["name"], assertion["success"]) == ("steward_trained", passed[asset])


@dg.asset(key=["lineage_test", "judged"], metadata={"dagster/uri": "s3://bronze/lineage-test/"})
def judged() -> None: ...


@dg.asset_check(asset=judged, name="judging_breaks")
def judging_breaks(context, lineage: LineageResource) -> dg.AssetCheckResult:
    # context unannotated: Dagster refuses its annotation as a string (from __future__ import annotations)
    def judge() -> list[dg.AssetCheckResult]:
        raise RuntimeError("registry unreadable")

    (result,) = lineage.check_run(context, context.check_specs, judge)
    return result


def test_a_check_that_raises_while_judging_is_a_failed_run(city_env: Path, store: ObjectStore) -> None:
    definitions = dg.Definitions(
        assets=[judged], asset_checks=[judging_breaks], resources={"lineage": LineageResource()}
    )
    result = definitions.resolve_implicit_global_asset_job_def().execute_in_process(raise_on_error=False)
    assert not result.success
    start, fail = by_job(events_of(store, result))["lineage_test/judged:judging_breaks"]
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert "registry unreadable" in fail["run"]["facets"]["errorMessage"]["message"]
    assert [d["name"] for d in fail["inputs"]] == [d["name"] for d in start["inputs"]]


def test_start_goes_out_before_the_work_and_complete_after_it(
    ingest_events: dict[str, list[dict]],
    runs: dict[str, dg.ExecuteInProcessResult],
    instance: dg.DagsterInstance,
) -> None:
    """Step started <= START < Dagster recorded the materialisation <= COMPLETE."""
    logs = instance.all_logs(runs["ingest"].run_id)
    step_started = min(e.timestamp for e in logs if e.dagster_event_type == dg.DagsterEventType.STEP_START)
    materialised = {
        e.dagster_event.asset_key.to_user_string(): e.timestamp
        for e in logs
        if e.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION
    }
    for job in ("iot/bronze/readings", "iot/quarantine/readings"):
        start, complete = (datetime.fromisoformat(e["eventTime"]).timestamp() for e in ingest_events[job])
        assert step_started <= start < materialised[job] <= complete


def test_inputs_are_the_upstream_assets_datasets_and_outputs_follow_the_naming_conventions(
    ingest_events: dict[str, list[dict]],
) -> None:
    def names(datasets: list[dict]) -> list[str]:
        return [f"{d['namespace']}/{d['name']}" for d in datasets]

    complete = {job: events[-1] for job, events in ingest_events.items()}
    assert names(complete["iot/bronze/readings"]["inputs"]) == [
        "s3://bronze/iot/registry/sensors.parquet",
        "s3://landing/iot",
    ]
    assert names(complete["iot/bronze/readings"]["outputs"]) == ["s3://bronze/iot/readings"]
    assert names(complete["iot/quarantine/readings"]["inputs"]) == ["s3://landing/iot"]
    assert names(complete["iot/quarantine/readings"]["outputs"]) == ["s3://quarantine/iot/readings"]
    assert names(complete["iot/raw/readings"]["inputs"]) == []
    assert names(complete["iot/bronze/districts"]["outputs"]) == [
        "s3://bronze/iot/registry/districts.parquet"
    ]


def test_complete_carries_schema_owners_tags_docs_counts_and_check_results(
    ingest_events: dict[str, list[dict]], runs: dict[str, dg.ExecuteInProcessResult]
) -> None:
    bronze = ingest_events["iot/bronze/readings"][-1]
    facets = output_facets(bronze)
    fields = {f["name"] for f in facets["schema"]["fields"]}
    assert {"sensor_id", "observed_at", "pm25", "laeq_db", "level_m", "source_file"} <= fields
    assert [o["type"] for o in facets["ownership"]["owners"]] == ["steward", "deputy"]
    assert all(o["name"].startswith("user:") and "@" in o["name"] for o in facets["ownership"]["owners"])
    tags = {t["key"]: t["value"] for t in facets["tags"]["tags"]}
    assert tags["classification"] == "internal" and tags["department"] == "environment"
    assert "pii" not in tags
    assert "Pandera contract" in facets["documentation"]["description"]

    metadata = next(
        m.step_materialization_data.materialization.metadata
        for m in runs["ingest"].get_asset_materialization_events()
        if m.asset_key.to_user_string() == "iot/bronze/readings"
    )
    rows = metadata["dagster/row_count"].value
    assert facets["dataQualityMetrics"]["rowCount"] == rows
    assert bronze["outputs"][0]["outputFacets"]["outputStatistics"]["rowCount"] == rows

    assert "dataQualityAssertions" not in facets  # an input facet only: of the checks' own runs

    def tested(job: str) -> list[dict[str, Any]]:
        start, complete = ingest_events[job]
        assert [d["name"] for d in start["inputs"]] == [d["name"] for d in complete["inputs"]]
        (read,) = complete["inputs"]
        assert (read["namespace"], read["name"]) == (
            bronze["outputs"][0]["namespace"],
            bronze["outputs"][0]["name"],
        )
        return read["inputFacets"]["dataQualityAssertions"]["assertions"]

    assertions = tested("iot/bronze/readings:contract") + tested("iot/bronze/readings:reconciliation")
    checks = {a["name"]: a["success"] for a in assertions if a["assertion"] in {"reconciliation", "contract"}}
    assert checks == {"reconciliation": True, "contract": True}
    pandera = [a for a in assertions if a.get("params", {}).get("contract") == "iot_air_quality_reading"]
    assert ("pm25", "in_range(0, 1000)") in {(a.get("column"), a["name"]) for a in pandera}
    assert all(a["success"] for a in assertions)

    registry = output_facets(ingest_events["iot/bronze/sensor_registry"][-1])
    (read,) = ingest_events["iot/bronze/sensor_registry:contract"][-1]["inputs"]
    assert registry["schema"]["fields"] and read["inputFacets"]["dataQualityAssertions"]["assertions"]


def test_a_failing_asset_emits_start_then_fail_with_the_error(
    runs: dict[str, dg.ExecuteInProcessResult], store: ObjectStore
) -> None:
    jobs = by_job(events_of(store, runs["failing"]))
    assert set(jobs) == {"iot/raw/readings"}  # bronze never started: its upstream failed
    start, fail = jobs["iot/raw/readings"]
    assert (start["eventType"], fail["eventType"]) == ("START", "FAIL")
    assert start["run"]["runId"] == fail["run"]["runId"]
    error = fail["run"]["facets"]["errorMessage"]
    assert "no landing objects" in error["message"] and error["programmingLanguage"] == "python"
    assert "dataQualityMetrics" not in output_facets(fail)


def test_city_lineage_shows_upstream_and_downstream_with_owners_and_checks(
    runs: dict[str, dg.ExecuteInProcessResult], city_env: Path
) -> None:
    shown = CliRunner().invoke(app, ["lineage", "iot/bronze/readings"], terminal_width=250)
    assert shown.exit_code == 0, shown.output
    upstream, downstream = shown.output.split("downstream")
    assert "iot/raw/readings" in upstream and "s3://landing/iot" in upstream
    assert "iot/bronze/sensor_registry" in upstream and "s3://bronze/iot/registry/sensors.parquet" in upstream
    assert "checks: passed" in upstream and "steward" in upstream
    assert "none recorded" in downstream

    raw = CliRunner().invoke(app, ["lineage", "show", "s3://landing/iot/"], terminal_width=250)
    assert raw.exit_code == 0, raw.output
    upstream, downstream = raw.output.split("downstream")
    assert "upstream: none recorded" in upstream
    assert "iot/bronze/readings" in downstream and "iot/quarantine/readings" in downstream

    unknown = CliRunner().invoke(app, ["lineage", "iot/nowhere"])
    assert unknown.exit_code == 2 and "no lineage recorded" in unknown.output


def test_city_lineage_report_draws_the_graph(
    runs: dict[str, dg.ExecuteInProcessResult], city_env: Path
) -> None:
    written = CliRunner().invoke(app, ["lineage", "report"])
    assert written.exit_code == 0, written.output
    path = written.output.split(" written to ")[1].strip().replace("\n", "")
    page = Path(path).read_text()
    assert page.count("<svg") == 1 and "iot/bronze/readings" in page
    assert "s3://quarantine/iot/readings" in page


def _parent_run_id(event: dict[str, Any]) -> str | None:
    """The module's runs archive events into one bucket; a Dagster parent says which run they belong to."""
    return event["run"]["facets"].get("parent", {}).get("run", {}).get("runId")

"""dbt models under Dagster emit a run each, with column lineage; dbt tests become assertions.

A small dbt-duckdb project is built for real by ``dbt build`` inside a ``@dbt_assets``
materialisation, and the archived events are checked. It has three sources owned by Python assets
(a table; parquet files read by glob, like the platform's bronze readings; one file as an
``external_location``, like its registry), a staging model, a mart that joins and aggregates, a
model that cannot build, and two tests of which one fails.

Slow (a dbt parse and build of their own): `make test-all` and CI run it; in the default run the demo
test builds the real marts under Dagster and checks every event it archived, dbt models' included.
"""

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
from dagster_dbt import DbtCliInvocation, DbtCliResource, dbt_assets

from cityplatform.objectstore import LINEAGE, ObjectStore
from governance.lineage.graph import LineageGraph
from governance.lineage.naming import warehouse_namespace
from orchestration.lib.lineage import LineageResource, emits_lineage
from orchestration.lib.lineage_dbt import emits_dbt_lineage
from orchestration.lib.ownership import PERSONAL_COLUMNS
from tests.lineage_spec import event_errors

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DBT = str(Path(sys.executable).with_name("dbt"))
PROJECT = {
    "dbt_project.yml": """
        name: mini
        version: "1.0.0"
        config-version: 2
        profile: mini
        models:
          mini:
            +materialized: table
    """,
    "profiles.yml": """
        mini:
          target: dev
          outputs:
            dev:
              type: duckdb
              path: "{{ env_var('MINI_WAREHOUSE') }}"
              threads: 1
    """,
    "models/sources.yml": """
        version: 2
        sources:
          - name: raw
            schema: main
            tables:
              - name: trips
                identifier: raw_trips
                meta: {dagster: {asset_key: [test, bronze, trips]}}
                columns:
                  - {name: trip_id, data_type: bigint}
                  - {name: segment_id, data_type: varchar}
                  - {name: vehicles, data_type: bigint}
                  - {name: observed_at, data_type: varchar}
              - name: segments
                meta:
                  glob: "{{ env_var('MINI_SEGMENTS') }}"
                  dagster: {asset_key: [test, bronze, segments]}
                columns:
                  - {name: segment_id, data_type: varchar}
                  - {name: district_id, data_type: varchar}
              - name: districts
                config:
                  external_location: "{{ env_var('MINI_DISTRICTS') }}"
                meta: {dagster: {asset_key: [test, bronze, districts]}}
                columns:
                  - {name: district_id, data_type: varchar}
                  - {name: name, data_type: varchar}
        models:
          - name: stg_trips
            columns:
              - {name: trip_id, data_type: bigint, tests: [not_null]}
              - {name: segment_id, data_type: varchar}
              - {name: vehicle_count, data_type: bigint}
              - {name: observed_at, data_type: timestamp}
          - name: fct_district_traffic
            description: Vehicles per district.
            columns:
              - name: district_id
                data_type: varchar
              - {name: district_name, data_type: varchar}
              - name: vehicles
                data_type: hugeint
                tests: [{accepted_values: {arguments: {values: [1]}}}]
              - {name: readings, data_type: bigint}
    """,
    "models/stg_trips.sql": """
        with source as (
            select * from {{ source('raw', 'trips') }}
        )
        select
            trip_id,
            segment_id,
            vehicles as vehicle_count,
            cast(observed_at as timestamp) as observed_at
        from source
    """,
    "models/fct_district_traffic.sql": """
        with trips as (
            select * from {{ ref('stg_trips') }}
        ),
        segments as (
            -- read as files, like the platform's bronze sources: {{ source('raw', 'segments') }}
            select * from read_parquet('{{ env_var("MINI_SEGMENTS") }}')
        ),
        districts as (
            select * from {{ source('raw', 'districts') }}
        )
        select
            segments.district_id,
            districts.name as district_name,
            sum(trips.vehicle_count) as vehicles,
            count(*) as readings
        from trips
        join segments on trips.segment_id = segments.segment_id
        join districts on segments.district_id = districts.district_id
        group by segments.district_id, districts.name
    """,
    "models/fct_broken.sql": """
        select no_such_column from {{ ref('stg_trips') }}
    """,
}


@pytest.fixture(scope="module")
def project(city_env: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    tmp_path = tmp_path_factory.mktemp("dbt")
    root = tmp_path / "mini"
    for name, text in PROJECT.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text).lstrip())
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as db:
        db.execute(
            "create table raw_trips as select * from (values (1, 'S1', 10, '2026-03-14 08:00:00'),"
            " (2, 'S1', 12, '2026-03-14 08:05:00'), (3, 'S2', 7, '2026-03-14 08:00:00'))"
            " t(trip_id, segment_id, vehicles, observed_at)"
        )
        (tmp_path / "segments").mkdir()
        db.execute(
            "copy (select * from (values ('S1', 'D1'), ('S2', 'D2')) t(segment_id, district_id))"
            f" to '{tmp_path / 'segments' / 'part-0.parquet'}' (format parquet)"
        )
        db.execute(
            "copy (select * from (values ('D1', 'North'), ('D2', 'South')) t(district_id, name))"
            f" to '{tmp_path / 'districts.parquet'}' (format parquet)"
        )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MINI_WAREHOUSE", str(warehouse))
        patch.setenv("MINI_SEGMENTS", str(tmp_path / "segments" / "*.parquet"))
        patch.setenv("MINI_DISTRICTS", str(tmp_path / "districts.parquet"))
        yield root


@dg.asset(
    key=["test", "bronze", "trips"],
    tags={"classification": "personal"},  # as the registry tags a dataset of personal data
    metadata={
        "dagster/uri": "s3://bronze/test/trips/",
        PERSONAL_COLUMNS: ["trip_id", "vehicles", "observed_at"],
    },
)
@emits_lineage
def trips(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Personal data (a trip singles out a traveller), written before the models read it."""
    return dg.MaterializeResult()


def materialise(project: Path) -> dg.ExecuteInProcessResult:
    dbt = DbtCliResource(project_dir=str(project), profiles_dir=str(project), dbt_executable=DBT)
    manifest = dbt.cli(["parse"]).wait().target_path / "manifest.json"

    @dbt_assets(manifest=manifest)
    @emits_dbt_lineage
    def mini(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> DbtCliInvocation:
        return dbt.cli(["build"], context=context)

    sources = [
        dg.AssetSpec(["test", "bronze", name], metadata={"dagster/uri": f"s3://bronze/test/{name}/"})
        for name in ("segments", "districts")
    ]
    definitions = dg.Definitions(
        assets=[trips, mini, *sources], resources={"dbt": dbt, "lineage": LineageResource()}
    )
    return definitions.resolve_implicit_global_asset_job_def().execute_in_process(raise_on_error=False)


@pytest.fixture(scope="module")
def events(project: Path, store: ObjectStore) -> dict[str, list[dict[str, Any]]]:
    result = materialise(project)
    assert not result.success  # fct_broken cannot build: the step fails after the rest is built
    objects = list(store.list_objects(LINEAGE, "events/"))
    archived = [json.loads(data) for data in store.get_many(objects)]
    mine = [e for e in archived if _parent_run_id(e) == result.run_id]
    jobs: dict[str, list[dict[str, Any]]] = {}
    for event in sorted(mine, key=lambda e: e["eventTime"]):
        jobs.setdefault(event["job"]["name"], []).append(event)
    return jobs


def fields(event: dict[str, Any]) -> dict[str, set[tuple[str, str, str | None]]]:
    lineage = event["outputs"][0]["facets"]["columnLineage"]["fields"]
    return {
        column: {(f["name"], f["field"], f["transformations"][0]["subtype"]) for f in spec["inputFields"]}
        for column, spec in lineage.items()
    }


def test_each_model_is_a_run_started_when_dbt_starts_it(events: dict[str, list[dict[str, Any]]]) -> None:
    assert all(event_errors(e) == [] for job in events.values() for e in job)
    states = {
        job: [e["eventType"] for e in runs] for job, runs in events.items() if not job.startswith("test.")
    }
    assert states == {
        "test/bronze/trips": ["START", "COMPLETE"],
        "stg_trips": ["START", "COMPLETE"],
        "fct_district_traffic": ["START", "COMPLETE"],
        "fct_broken": ["START", "FAIL"],
    }
    error = events["fct_broken"][-1]["run"]["facets"]["errorMessage"]["message"]
    assert "DbtNodeError" in error and "error" in error


def test_model_inputs_and_outputs_are_named_by_where_they_live(
    events: dict[str, list[dict[str, Any]]],
) -> None:
    stg, fct = events["stg_trips"][-1], events["fct_district_traffic"][-1]
    warehouse = warehouse_namespace()  # as OpenLineage's dbt integration names a DuckDB profile's path
    assert warehouse.startswith("duckdb:///") and warehouse.endswith("/warehouse.duckdb")
    assert [(d["namespace"], d["name"]) for d in stg["inputs"]] == [("s3://bronze", "test/trips")]
    assert [(d["namespace"], d["name"]) for d in stg["outputs"]] == [(warehouse, "warehouse.main.stg_trips")]
    assert sorted((d["namespace"], d["name"]) for d in fct["inputs"]) == [
        (warehouse, "warehouse.main.stg_trips"),
        ("s3://bronze", "test/districts"),
        ("s3://bronze", "test/segments"),
    ]
    assert fct["outputs"][0]["facets"]["documentation"]["description"].startswith("Vehicles per district.")


def test_column_lineage_is_derived_from_the_compiled_sql(events: dict[str, list[dict[str, Any]]]) -> None:
    assert fields(events["stg_trips"][-1]) == {
        "trip_id": {("test/trips", "trip_id", "IDENTITY")},
        "segment_id": {("test/trips", "segment_id", "IDENTITY")},
        "vehicle_count": {("test/trips", "vehicles", "IDENTITY")},
        "observed_at": {("test/trips", "observed_at", "TRANSFORMATION")},
    }
    assert fields(events["fct_district_traffic"][-1]) == {
        "district_id": {("test/segments", "district_id", "IDENTITY")},
        "district_name": {("test/districts", "name", "IDENTITY")},
        "vehicles": {("warehouse.main.stg_trips", "vehicle_count", "AGGREGATION")},
    }


def test_dbt_tests_report_assertions_on_their_model(events: dict[str, list[dict[str, Any]]]) -> None:
    tests = {job: runs for job, runs in events.items() if job.startswith("test.")}
    assert len(tests) == 2
    results = {}
    for runs in tests.values():
        assert [e["eventType"] for e in runs] == ["START", "COMPLETE"]
        (tested,) = runs[-1]["inputs"]
        (assertion,) = tested["inputFacets"]["dataQualityAssertions"]["assertions"]
        results[(tested["name"], assertion["assertion"], assertion.get("column"))] = assertion["success"]
    assert results == {
        ("warehouse.main.stg_trips", "not_null", "trip_id"): True,
        ("warehouse.main.fct_district_traffic", "accepted_values", "vehicles"): False,
    }
    graph = LineageGraph([runs[-1] for runs in events.values()])
    mart = graph.datasets[graph.resolve("fct_district_traffic")]
    assert mart.check_status == "failed" and [c.name for c in mart.failed_checks] == [
        "accepted_values_fct_district_traffic_vehicles__1"
    ]


def test_personal_columns_keep_their_tag_through_the_models_that_pass_them_on(
    events: dict[str, list[dict[str, Any]]],
) -> None:
    """The registry's personal columns of the source, and every column of a model passed on from
    one unchanged or transformed, carry ``pii``; one only aggregated from them (``sum(vehicles)``)
    does not, nor does a column from elsewhere."""
    graph = LineageGraph([e for runs in events.values() for e in runs])
    personal = {d.name: columns for d, columns in graph.personal_columns().items()}
    assert personal == {
        "test/trips": {"trip_id", "vehicles", "observed_at"},
        "warehouse.main.stg_trips": {"trip_id", "vehicle_count", "observed_at"},
    }
    assert graph.untagged_personal() == []  # 100% of them tagged in the events
    stg = graph.datasets[graph.resolve("stg_trips")]
    assert sorted(stg.pii_passed_on) == ["observed_at", "trip_id", "vehicle_count"]
    assert stg.personal and not graph.datasets[graph.resolve("fct_district_traffic")].personal
    (column,) = [
        c
        for c in events["stg_trips"][-1]["outputs"][0]["facets"]["tags"]["tags"]
        if c.get("field") == "trip_id"
    ]
    assert (column["key"], column["value"], column["source"]) == ("pii", "true", "column-lineage")


def _parent_run_id(event: dict[str, Any]) -> str | None:
    """Other tests archive events into the same bucket; only those with a Dagster parent are runs."""
    return event["run"]["facets"].get("parent", {}).get("run", {}).get("runId")

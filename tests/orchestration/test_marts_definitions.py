"""The marts in the code location: dbt models as assets joined to the Python assets upstream, grouped
by department and layer, dbt tests as checks with short names and descriptions that block on error
and not on warn, daily partitions, publications and the dbt resource's environment. No server and no
dbt run: the definitions and the manifest only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest
from dagster_dbt.errors import DagsterDbtCliRuntimeError

from cityplatform.settings import load_settings
from governance.registry.departments import load_departments
from orchestration.defs.marts.assets import (
    MARTS_BY_DEPARTMENT,
    PROJECT,
    layer_and_name,
    retried_for_storage_only,
)
from orchestration.lib.dbt import dbt_env, httpfs_extension_directory, partition_window
from orchestration.lib.dbt_checks import MAX_NAME, readable_test_names
from orchestration.lib.partitions import daily_partitions
from orchestration.lib.retries import STORAGE_RETRY

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture(scope="module")
def specs(definitions: dg.Definitions) -> dict[str, dg.AssetSpec]:
    return {spec.key.to_user_string(): spec for spec in definitions.resolve_all_asset_specs()}


def test_dbt_models_are_keyed_and_grouped_by_layer_or_department(specs: dict[str, dg.AssetSpec]) -> None:
    assert {"marts/staging/stg_iot__traffic", "marts/intermediate/int_river_readings_classified"} <= set(
        specs
    )
    assert {
        "marts/traffic/fct_segment_traffic_hourly",
        "marts/reference/cctv_cameras",
        "marts/snapshots/snp_iot__sensors",
    } <= set(specs)
    departments = {d.id for d in load_departments()}
    groups: dict[str, set[str]] = {}
    for key, spec in specs.items():
        if key.startswith("marts/") and "dbt" in spec.kinds:
            groups.setdefault(spec.group_name, set()).add(key.split("/")[1])
    # every department's marts in its own group; staging, intermediate, seeds and snapshots each in theirs
    assert groups == {
        **{department: {department} for department in departments},
        "marts_staging": {"staging"},
        "marts_intermediate": {"intermediate"},
        "marts_reference": {"reference"},
        "marts_snapshots": {"snapshots"},
    }
    assert layer_and_name(["city", "marts", "environment", "fct_air_quality_daily"], "model") == (
        "environment",
        "fct_air_quality_daily",
    )


def test_sources_join_the_python_assets_so_no_node_is_an_orphan(specs: dict[str, dg.AssetSpec]) -> None:
    deps = {
        dep.asset_key.to_user_string()
        for key, s in specs.items()
        if key.startswith("marts/")
        for dep in s.deps
    }
    assert {
        "iot/bronze/readings",
        "iot/bronze/sensor_registry",
        "iot/bronze/districts",
        "iot/bronze/road_segments",
        "iot/bronze/river_gauges",
        "cctv/derived/counts",
        "cctv/derived/coverage",
    } <= deps
    # every upstream is an asset of the code location with owners and kinds, not a bare stub
    for dep in deps:
        assert specs[dep].kinds and len(specs[dep].owners) == 2, dep
    assert [d.asset_key for d in specs["marts/staging/stg_iot__noise"].deps] == [
        dg.AssetKey(["iot", "bronze", "readings"])
    ]


@pytest.fixture(scope="module")
def dbt_checks(definitions: dg.Definitions) -> dict[tuple[str, str], dg.AssetCheckSpec]:
    graph = definitions.resolve_asset_graph()
    return {
        (key.asset_key.to_user_string(), key.name): graph.get_check_spec(key)
        for key in graph.asset_check_keys
        if key.asset_key.path[0] == "marts" and key.name != "steward_trained"
    }


def test_every_dbt_test_is_a_check_with_a_short_name_and_a_description(
    dbt_checks: dict[tuple[str, str], dg.AssetCheckSpec],
) -> None:
    """Named by the test and its column(s), not dbt's generated name; described by what it asserts,
    on which column, with which severity; and still the dbt test it was (one check per test)."""
    manifest = json.loads(PROJECT.manifest_path.read_text())
    tests = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "test"}
    by_test = {spec.metadata["dagster_dbt/unique_id"]: spec for spec in dbt_checks.values()}
    assert set(by_test) == set(tests)
    for uid, spec in by_test.items():
        test = tests[uid]
        kind = test["test_metadata"]["name"]
        assert len(spec.name) <= MAX_NAME and re.fullmatch(rf"{kind}(__\w+)?", spec.name), spec.name
        assert not re.search(r"[0-9a-f]{10}", spec.name), spec.name  # no hash
        assert test["attached_node"].split(".")[-1] not in spec.name, spec.name  # no model name
        severity = str(test["config"]["severity"]).lower()
        assert spec.description and f"Severity {severity}:" in spec.description, spec.name
        assert test["name"] in spec.description, spec.name  # dbt's own name, for `dbt test --select`
        if test["column_name"]:
            assert spec.name == f"{kind}__{test['column_name']}"
            assert f"`{test['column_name']}`" in spec.description, spec.name
    accepted = dbt_checks[("marts/environment/fct_air_quality_hourly", "accepted_range__cai")]
    assert accepted.description.startswith("Every non-null `cai` lies between 0 and 500 (inclusive).")


def test_short_names_that_would_collide_keep_dbts_and_long_ones_are_the_test_alone() -> None:
    def test(name: str, kind: str, **kwargs: object) -> dict[str, object]:
        column = kwargs.get("column_name")
        return {
            "resource_type": "test",
            "name": name,
            "attached_node": "model.city.m",
            "column_name": column,
            "test_metadata": {"name": kind, "kwargs": kwargs},
        }

    long_key = [f"column_{i}" for i in range(8)]
    nodes = {
        "a": test("accepted_range_m_x__1", "accepted_range", column_name="x", max_value=1),
        "b": test("accepted_range_m_x__0", "accepted_range", column_name="x", min_value=0),
        "c": test("primary_key_m_" + "__".join(long_key), "primary_key", columns=long_key),
        "d": test("not_null_m_x", "not_null", column_name="x"),
    }
    renamed = readable_test_names({"nodes": nodes})["nodes"]
    assert {uid: node["name"] for uid, node in renamed.items()} == {
        "a": "accepted_range_m_x__1",
        "b": "accepted_range_m_x__0",
        "c": "primary_key",
        "d": "not_null__x",
    }


def test_dbt_tests_are_checks_blocking_on_error_severity_only(
    dbt_checks: dict[tuple[str, str], dg.AssetCheckSpec],
) -> None:
    checks = dbt_checks
    key = checks[("marts/staging/stg_iot__road_segments", "primary_key__segment_id")]
    assert key.blocking
    warn = [
        c
        for (key, name), c in checks.items()
        if key == "marts/public_safety/dim_cameras" and "relationships" in name
    ]
    assert warn and not any(c.blocking for c in warn)  # a camera on an unknown segment warns
    assert sum(c.blocking for c in checks.values()) == len(checks) - len(warn)


def test_marts_share_the_daily_partitions_and_build_in_one_job_per_day(definitions: dg.Definitions) -> None:
    job = definitions.resolve_job_def("marts_build_day")
    assert job.partitions_def == daily_partitions
    schedule = definitions.resolve_schedule_def("marts_build_day_schedule")
    assert schedule.cron_schedule == "30 1 * * *"
    graph = definitions.resolve_asset_graph()
    for department in load_departments():
        key = dg.AssetKey(["marts", "published", department.id])
        parents = {p.path[-1] for p in graph.get(key).parent_keys}
        assert parents == set(MARTS_BY_DEPARTMENT[department.id]), department.id


def test_a_partition_window_becomes_inclusive_local_dates() -> None:
    day = daily_partitions.time_window_for_partition_key("2026-03-14")
    assert partition_window(day.start, day.end) == {
        "CITY_MIN_DATE": "2026-03-14",
        "CITY_MAX_DATE": "2026-03-14",
    }
    week = (datetime(2026, 3, 1, tzinfo=SEOUL), datetime(2026, 3, 8, tzinfo=SEOUL))
    assert partition_window(*week) == {"CITY_MIN_DATE": "2026-03-01", "CITY_MAX_DATE": "2026-03-07"}


def test_dbt_gets_the_platform_settings_and_an_httpfs_it_can_load_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("CITY_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CITY_S3_ENDPOINT", "s3.city.internal:9000")
    monkeypatch.setenv("CITY_S3_SECRET_KEY_FILE", str(secret))
    settings = load_settings()
    env = dbt_env(settings)
    assert env["CITY_WAREHOUSE_PATH"] == str(settings.warehouse_path)
    assert env["CITY_S3_ENDPOINT"] == "s3.city.internal:9000"
    assert env["DBT_ENV_SECRET_S3_SECRET_KEY"] == "from-a-file"
    # what dbt-duckdb does with the profile: INSTALL finds the file (no download), LOAD works
    directory = httpfs_extension_directory(settings)
    con = duckdb.connect(
        config={"extension_directory": str(directory), "autoinstall_known_extensions": False}
    )
    con.execute("install httpfs")
    con.execute("load httpfs")
    loaded = con.execute("select loaded from duckdb_extensions() where extension_name = 'httpfs'").fetchone()
    assert loaded == (True,)
    assert httpfs_extension_directory(settings) == directory  # reused, not copied again


def test_the_dbt_build_is_retried_on_storage_failures_only(definitions: dg.Definitions) -> None:
    """The build step has the storage retry policy; a dbt failure naming the object store's HTTP or
    I/O error stays retriable, a failed data test becomes a failure no retry is spent on."""
    graph = definitions.resolve_asset_graph()
    node = graph.get(dg.AssetKey(["marts", "traffic", "fct_segment_traffic_hourly"]))
    assert node.assets_def.op.retry_policy == STORAGE_RETRY

    def failing(message: str) -> Iterator[None]:
        yield None
        raise DagsterDbtCliRuntimeError(description=message)

    storage = "Runtime Error in model stg_iot__rain\n  IO Error: Could not establish connection (HTTP 503)"
    with pytest.raises(DagsterDbtCliRuntimeError):
        list(retried_for_storage_only(failing)(storage))
    with pytest.raises(dg.Failure) as failed:
        list(retried_for_storage_only(failing)("Failure in test primary_key: Got 1 result"))
    assert not failed.value.allow_retries

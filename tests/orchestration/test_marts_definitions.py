"""The marts in the code location: dbt models as assets joined to the Python assets upstream, dbt
tests as checks that block on error and not on warn, daily partitions, publications and the dbt
resource's environment. No server and no dbt run: the definitions and the manifest only."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from cityplatform.settings import load_settings
from governance.registry.departments import load_departments
from orchestration.defs.marts.assets import MARTS_BY_DEPARTMENT, PROJECT, layer_and_name
from orchestration.lib.dbt import dbt_env, httpfs_extension_directory, partition_window
from orchestration.lib.partitions import daily_partitions

SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture(scope="module")
def specs(definitions: dg.Definitions) -> dict[str, dg.AssetSpec]:
    return {spec.key.to_user_string(): spec for spec in definitions.resolve_all_asset_specs()}


def test_dbt_models_are_keyed_by_layer_or_department_in_the_marts_group(
    specs: dict[str, dg.AssetSpec],
) -> None:
    assert {"marts/staging/stg_iot__traffic", "marts/intermediate/int_river_readings_classified"} <= set(
        specs
    )
    assert {"marts/traffic/fct_segment_traffic_hourly", "marts/reference/cctv_cameras"} <= set(specs)
    for key, spec in specs.items():
        if key.startswith("marts/"):
            assert spec.group_name == "marts", key
    assert layer_and_name(["city", "marts", "environment", "fct_air_quality_daily"]) == (
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
    } <= deps
    # every upstream is an asset of the code location with owners and kinds, not a bare stub
    for dep in deps:
        assert specs[dep].kinds and len(specs[dep].owners) == 2, dep
    assert [d.asset_key for d in specs["marts/staging/stg_iot__noise"].deps] == [
        dg.AssetKey(["iot", "bronze", "readings"])
    ]


def test_dbt_tests_are_checks_blocking_on_error_severity_only(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    checks = {
        (key.asset_key.to_user_string(), key.name): graph.get_check_spec(key)
        for key in graph.asset_check_keys
        if key.asset_key.path[0] == "marts" and key.name != "steward_trained"
    }
    manifest = json.loads(PROJECT.manifest_path.read_text())
    data_tests = [n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    assert sorted(name for _, name in checks) == sorted(data_tests)
    key = checks[("marts/staging/stg_iot__road_segments", "primary_key_stg_iot__road_segments_segment_id")]
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

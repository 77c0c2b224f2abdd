"""The dbt project's governance, read from the manifest ``dbt parse`` writes (no warehouse, no S3).

Every model and column documented, every mart under an enforced contract with a primary key, a unit
test and an exposure, owners in ``meta`` equal to the ownership registry, and the file patterns of
the sources equal to the keys the platform writes.
"""

from __future__ import annotations

import csv
import fnmatch
import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
import yaml

from cityplatform.layout import (
    ClipName,
    bronze_clip_key,
    bronze_readings_key,
    bronze_registry_key,
    clip_publication_key,
    new_generation,
    readings_publication_key,
)
from governance.registry.departments import load_departments
from governance.registry.ownership import load_ownership, load_staff
from orchestration.lib.dbt import DBT_PROJECT_DIR, MARTS_PROJECT
from vision_jobs.registry import load_registry


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return json.loads(MARTS_PROJECT.manifest_path.read_text())  # prepared by tests/conftest.py


def nodes(manifest: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == resource_type]


def marts(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in nodes(manifest, "model") if n["fqn"][1] == "marts"]


def test_every_model_seed_and_column_has_a_description(manifest: dict[str, Any]) -> None:
    undocumented = [
        f"{n['name']}.{column}" if column else n["name"]
        for n in nodes(manifest, "model") + nodes(manifest, "seed")
        for column in [None, *n["columns"]]
        if not (n["columns"][column]["description"] if column else n["description"]).strip()
    ]
    assert undocumented == []
    assert all(n["columns"] for n in nodes(manifest, "model"))
    assert [s["name"] for s in manifest["sources"].values() if not s["description"]] == []


def test_every_mart_has_an_enforced_contract_with_typed_columns_and_a_not_null_primary_key(
    manifest: dict[str, Any],
) -> None:
    for mart in marts(manifest):
        assert mart["contract"]["enforced"], mart["name"]
        assert all(c["data_type"] for c in mart["columns"].values()), mart["name"]
        (key,) = [c["columns"] for c in mart["constraints"] if c["type"] == "primary_key"]
        for column in key:
            assert {"type": "not_null"} in [
                {"type": c["type"]} for c in mart["columns"][column]["constraints"]
            ], (mart["name"], column)


def test_every_mart_has_data_tests_and_a_unit_test_of_its_calculation(manifest: dict[str, Any]) -> None:
    tested = {d for t in nodes(manifest, "test") for d in t["depends_on"]["nodes"]}
    unit_tested = {u["depends_on"]["nodes"][0] for u in manifest["unit_tests"].values()}
    for mart in marts(manifest):
        assert mart["unique_id"] in tested, mart["name"]
        assert mart["unique_id"] in unit_tested, mart["name"]


def test_day_partitioned_marts_are_incremental_by_local_date(manifest: dict[str, Any]) -> None:
    for node in nodes(manifest, "model"):
        materialized = node["config"]["materialized"]
        if "local_date" in node["columns"] and node["fqn"][1] != "staging":
            assert materialized == "incremental", node["name"]
            assert node["config"]["incremental_strategy"] == "replace_days", node["name"]
        elif node["fqn"][1] == "marts":
            assert node["name"].startswith("dim_") and materialized == "table", node["name"]


def test_owners_in_meta_are_the_stewards_of_the_ownership_registry(manifest: dict[str, Any]) -> None:
    from orchestration.defs.marts.assets import GROUP, layer_and_name

    ownership, staff = load_ownership(), load_staff()
    for node in nodes(manifest, "model") + nodes(manifest, "seed") + nodes(manifest, "snapshot"):
        key = "/".join([GROUP, *layer_and_name(node["fqn"], node["resource_type"])])
        entry = ownership[key]
        assert node["meta"]["owner"] == staff[entry.steward].email, key
        assert node["meta"]["department"] == entry.department, key


def test_each_department_has_an_exposure_on_all_its_marts(manifest: dict[str, Any]) -> None:
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    for department in load_departments():
        exposure = exposures[f"{department.id}_department"]
        own = {m["unique_id"] for m in marts(manifest) if m["fqn"][2] == department.id}
        assert own and set(exposure["depends_on"]["nodes"]) == own, department.id
        assert f"s3://{department.bucket}/" in exposure["description"]


def test_source_patterns_match_the_keys_the_platform_writes(manifest: dict[str, Any]) -> None:
    sources = {(s["source_name"], s["name"]): s for s in manifest["sources"].values()}
    day = date(2026, 3, 14)
    for (source, table), node in sources.items():
        if source == "iot" and "glob" in node["meta"]:
            generation = new_generation()
            assert fnmatch.fnmatch(
                f"s3://bronze/{bronze_readings_key(table, day, generation)}", node["meta"]["glob"]
            )
            assert fnmatch.fnmatch(f"s3://bronze/{readings_publication_key(day)}", node["meta"]["published"])
            assert node["meta"]["dagster"]["asset_key"] == ["iot", "bronze", "readings"]
        elif source == "iot":
            assert node["meta"]["location"] == f"s3://bronze/{bronze_registry_key(table)}"
    for node in sources.values():
        if "glob" in node["meta"]:  # bronze_globs narrows date=* to a day or month: one S3 prefix
            pattern = node["meta"]["glob"]
            assert pattern.index("*") == pattern.index("date=*") + len("date="), pattern
    clip = ClipName("cam-01", datetime(2026, 3, 14, 8, 0, tzinfo=UTC))  # keys follow its wall clock
    for table in ("counts", "coverage"):
        meta = sources[("cctv", table)]["meta"]
        generation = new_generation()
        assert fnmatch.fnmatch(f"s3://bronze/{bronze_clip_key(table, clip, generation)}", meta["glob"])
        publication = f"s3://bronze/{clip_publication_key(clip, generation)}"
        assert fnmatch.fnmatch(publication, meta["published_generations"])


# Traffic's derived metrics: each description names its method and its source.
TRAFFIC_METRICS = {
    "fct_segment_traffic_hourly": (
        "volume_vph",
        "cctv_volume_vph",
        "speed_ratio",
        "volume_capacity_ratio",
        "worst_los",
        *(f"minutes_los_{band}" for band in "abcdef"),
        "congested_minutes",
        "travel_time_index",
    ),
    "fct_district_peak_hours": (
        "am_peak_travel_time_index",
        "pm_peak_travel_time_index",
        "max_travel_time_index",
        "worst_los",
        "congested_minutes",
        "congested_segment_hours",
    ),
    "fct_loop_camera_agreement": ("camera_to_loop_ratio", "geh", "agrees"),
}


def test_every_traffic_metric_names_its_method_and_source(manifest: dict[str, Any]) -> None:
    models = {n["name"]: n for n in nodes(manifest, "model")}
    unsourced = [
        f"{mart}.{column}"
        for mart, columns in TRAFFIC_METRICS.items()
        for column in columns
        if not {"Method:", "Source:"} <= set(models[mart]["columns"][column]["description"].split())
    ]
    assert unsourced == []


def test_the_camera_seed_is_the_vision_jobs_registry() -> None:
    with (DBT_PROJECT_DIR / "seeds" / "cctv_cameras.csv").open() as seed:
        rows = {row["camera_id"]: row for row in csv.DictReader(seed)}
    registry = load_registry().cameras
    assert set(rows) == set(registry)
    for camera_id, camera in registry.items():
        row = rows[camera_id]
        assert (row["segment_id"], row["district_id"], int(row["frame_stride"])) == (
            camera.segment_id,
            camera.district_id,
            camera.frame_stride,
        )
        assert row["counting_lines"].split(";") == [line.line_id for line in camera.lines]
        assert row["zones"].split(";") == [zone.zone_id for zone in camera.zones]


def test_the_profile_reads_the_warehouse_and_s3_from_the_environment_and_loads_httpfs() -> None:
    profile = (DBT_PROJECT_DIR / "profiles.yml").read_text()
    output = yaml.safe_load(profile)["city"]["outputs"]["warehouse"]
    assert output["type"] == "duckdb"
    assert "env_var('CITY_WAREHOUSE_PATH'" in output["path"]
    assert output["extensions"] == ["httpfs"]
    assert "env_var('CITY_DUCKDB_EXTENSION_DIR'" in output["config_options"]["extension_directory"]
    (secret,) = output["secrets"]
    assert "DBT_ENV_SECRET_S3_SECRET_KEY" in secret["secret"] and "CITY_S3_ENDPOINT" in secret["endpoint"]
    assert not (DBT_PROJECT_DIR / "packages.yml").exists()  # nothing to fetch with dbt deps


def test_each_department_is_a_dbt_group_owned_by_its_marts_steward(manifest: dict[str, Any]) -> None:
    """Every model, seed and snapshot is in the group of its ``meta.department``; the group's owner is
    the owner of the department's marts; marts are public, staging and intermediate protected."""
    groups = {g["name"]: g for g in manifest["groups"].values()}
    assert set(groups) == {d.id for d in load_departments()}
    for mart in marts(manifest):
        assert groups[mart["fqn"][2]]["owner"]["email"] == mart["meta"]["owner"], mart["name"]
    for node in nodes(manifest, "model") + nodes(manifest, "seed") + nodes(manifest, "snapshot"):
        assert node["group"] == node["meta"]["department"], node["name"]
    for node in nodes(manifest, "model"):
        assert node["access"] == ("public" if node["fqn"][1] == "marts" else "protected"), node["name"]


def test_no_day_partitioned_model_can_be_fully_refreshed(manifest: dict[str, Any]) -> None:
    """``dbt build --full-refresh`` would drop every day outside the run's window of these."""
    partitioned = [
        n for n in nodes(manifest, "model") if n["config"].get("incremental_strategy") == "replace_days"
    ]
    assert partitioned
    assert [n["name"] for n in partitioned if n["config"]["full_refresh"] is not False] == []


def test_every_source_has_a_view_and_every_reading_a_freshness_rule(manifest: dict[str, Any]) -> None:
    """A view in ``bronze_<source>`` (macros/bronze_views.sql) over each source's objects; readings
    and counts warn after 26 hours and fail after 50 on their own timestamps; the registry tables,
    which change only with the city's assets, have none."""
    for source in manifest["sources"].values():
        assert source["schema"] == f"bronze_{source['source_name']}", source["name"]
        assert bool(source["meta"].get("glob")) != bool(source["meta"].get("location")), source["name"]
        if "glob" in source["meta"]:
            assert source["loaded_at_field"] in source["columns"], source["name"]
            assert source["freshness"]["warn_after"] == {"count": 26, "period": "hour"}, source["name"]
            assert source["freshness"]["error_after"] == {"count": 50, "period": "hour"}, source["name"]
        else:
            assert not source["freshness"] or not source["freshness"]["error_after"]["count"], source["name"]


def test_registry_joins_of_day_partitioned_models_are_as_of_their_day(manifest: dict[str, Any]) -> None:
    """The registry as it was: a day-partitioned model (intermediate or mart) reads a registry
    table's versions, never its current state nor a dimension built from it, and joins them with
    registry_as_of, so a backfill of an old day joins the registry of that day. Only the
    dimensions, rebuilt whole every run, show the registry as it is now."""
    current = {f"model.city.stg_iot__{t}" for t in ("sensors", "districts", "road_segments", "river_gauges")}
    dimensions = {n["unique_id"] for n in marts(manifest) if n["config"]["materialized"] == "table"}
    partitioned = [n for n in nodes(manifest, "model") if n["config"]["materialized"] == "incremental"]
    assert {n["fqn"][1] for n in partitioned} == {"intermediate", "marts"}
    for node in partitioned:
        assert not (current | dimensions) & set(node["depends_on"]["nodes"]), node["name"]
        if any(d.endswith("_versions") for d in node["depends_on"]["nodes"]):
            assert "registry_as_of(" in node["raw_code"], node["name"]


# Columns of a department fact mart that are keys or dimensions, not derived metrics.
DIMENSION_COLUMNS = frozenset({"local_date", "local_hour", "hour_start"})
DIMENSION_SUFFIXES = ("_id", "_name", "_at")


def test_every_derived_metric_of_a_department_mart_names_its_method_and_source(
    manifest: dict[str, Any],
) -> None:
    """A derived metric is a column of a department fact mart (``fct_*`` under models/marts/) that is
    not part of its primary key, not an identifier or name (``*_id``, ``*_name``), not a time
    dimension (``local_date``, ``local_hour``, ``hour_start``, an instant ``*_at``), and not marked
    ``meta: {metric: false}`` (an attribute copied as it is from the registry or a reading, e.g. a
    district's population, or a plain count of inputs, e.g. cameras_reporting). ``meta: {metric:
    true}`` makes any column one. Its description says how
    it is computed after ``Method:`` and where that definition comes from after ``Source:`` (a
    standard or publication with its reference, or "local definition" with the reason), so that a
    department can tell a standard figure from a local one."""
    missing = []
    for mart in marts(manifest):
        if not mart["name"].startswith("fct_"):
            continue
        (key,) = [c["columns"] for c in mart["constraints"] if c["type"] == "primary_key"]
        for name, column in mart["columns"].items():
            flag = column.get("meta", {}).get("metric")
            dimension = (
                name in key or name in DIMENSION_COLUMNS or name.endswith(DIMENSION_SUFFIXES) or flag is False
            )
            if (flag or not dimension) and not (
                "Method:" in column["description"] and "Source:" in column["description"]
            ):
                missing.append(f"{mart['fqn'][2]}.{mart['name']}.{name}")
    assert missing == []

"""Blocking that reaches every consumer, through a real marts run: a dataset two hops upstream of
published marts (``stg_iot__rain`` -> ``int_rain_readings_located`` -> ``fct_flood_alerts``
-> ``fct_coverage_gaps``) loses its trained owners, and everything that reads it, however far down,
is neither rebuilt nor published in that run, while each blocked mart's status object in its
department's bucket says why; departments that do not read it publish as usual.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml

from cityplatform.layout import mart_status_key
from cityplatform.objectstore import ObjectStore
from cityplatform.settings import load_settings
from citysim import build_city, write_iot_day
from tests.governance.registry_files import all_courses, city_today, trained_registry, write_training
from tests.orchestration.governance_env import materialized, run, steward_results

# A server of its own: the status objects must be this module's, not another module's publications.
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.own_s3]

DAY = date(2026, 5, 5)
FAILING = "marts/staging/stg_iot__rain"
# Department heads own nothing else, so their lapsed training fails this one dataset alone.
LAPSED_OWNERS = {"steward": "S-043", "deputy": "S-041"}


@pytest.fixture(scope="module")
def lapsed_rain_owners(city_env: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A registry copy where the rain staging model's steward and deputy trained five years ago."""
    directory = trained_registry(tmp_path_factory.mktemp("registry") / "registry")
    ownership = yaml.safe_load((directory / "ownership.yaml").read_text())
    ownership["datasets"][FAILING] |= LAPSED_OWNERS
    (directory / "ownership.yaml").write_text(yaml.safe_dump(ownership, sort_keys=False))
    training = yaml.safe_load((directory / "training.yaml").read_text())["completions"]
    completions: dict[str, dict[str, date]] = {}
    for row in training:
        completions.setdefault(row["staff"], {})[row["course"]] = date.fromisoformat(row["completed_on"])
    for staff in LAPSED_OWNERS.values():
        completions[staff] = all_courses(city_today() - timedelta(days=5 * 365))
    write_training(directory, completions)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CITY_GOVERNANCE_REGISTRY", str(directory))
        yield


@pytest.fixture(scope="module")
def build(
    lapsed_rain_owners: None, store: ObjectStore, definitions: dg.Definitions, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    city = build_city(seed=5, sensors=30)
    write_iot_day(store, city, DAY, tz=load_settings().zone, seed=5, fault_rate=0.0)
    assert run(definitions, instance, "iot_registry").success
    assert run(definitions, instance, "iot_ingest_day", DAY.isoformat()).success
    return run(definitions, instance, "marts_build_day", DAY.isoformat())


def status(store: ObjectStore, bucket: str, mart: str) -> dict:
    return json.loads(store.get_bytes(bucket, mart_status_key(mart)))


def test_the_failing_dataset_is_built_and_its_own_check_fails(build: dg.ExecuteInProcessResult) -> None:
    assert FAILING in materialized(build)
    check = steward_results(build)[FAILING]
    assert not check.passed and check.severity is dg.AssetCheckSeverity.ERROR


def test_everything_downstream_of_it_is_neither_rebuilt_nor_published(
    build: dg.ExecuteInProcessResult,
) -> None:
    built = materialized(build)
    blocked = {
        "marts/intermediate/int_rain_readings_located",  # one hop
        "marts/intermediate/int_rain_district_hours_aggregated",  # two hops, through the one above
        "marts/disaster_management/fct_flood_alerts",  # two hops
        "marts/policy_planning/fct_coverage_gaps",  # three hops, another department
        "marts/published/disaster_management",
        "marts/published/policy_planning",
    }
    assert blocked & built == set()
    assert {"marts/traffic/fct_segment_traffic_hourly", "marts/published/traffic"} <= built
    with duckdb.connect(str(load_settings().warehouse_path), read_only=True) as con:
        tables = {
            name for (name,) in con.execute("select table_name from information_schema.tables").fetchall()
        }
    assert "fct_flood_alerts" not in tables and "fct_coverage_gaps" not in tables


def test_each_blocked_mart_says_why_beside_its_data_and_the_others_say_published(
    build: dg.ExecuteInProcessResult, store: ObjectStore
) -> None:
    for bucket, mart in (("marts-disaster", "fct_flood_alerts"), ("marts-planning", "fct_coverage_gaps")):
        blocked = status(store, bucket, mart)
        assert blocked["state"] == "blocked" and blocked["run_id"] == build.run_id
        assert FAILING in blocked["reason"] and "training" in blocked["reason"]
        assert blocked["last_published"] is None  # never published before: nothing current to read
    published = status(store, "marts-traffic", "fct_segment_traffic_hourly")
    assert published["state"] == "published" and published["reason"] is None
    assert published["last_published"] == {
        "from": DAY.isoformat(),
        "to": DAY.isoformat(),
        "run_id": build.run_id,
    }
    assert published["checks"] == "pass"

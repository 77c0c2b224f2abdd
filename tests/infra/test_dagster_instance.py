"""dagster.yaml and workspace.yaml, validated by Dagster's own config schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster._config import process_config
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from dagster._core.storage.local_compute_log_manager import LocalComputeLogManager
from dagster._core.workspace.config_schema import WORKSPACE_CONFIG_SCHEMA

from orchestration.defs.cctv.assets import clip_analysis
from orchestration.defs.marts.assets import marts_dbt, publications
from tests.infra.helpers import INFRA, K8S, compose, load_yaml, pyproject

DAGSTER_DIR = INFRA / "dagster"


def instance() -> dict[str, Any]:
    config, _ = dagster_instance_config(str(DAGSTER_DIR))
    return dict(config)


def pg_problems(config: dict[str, Any]) -> list[str]:
    """Connection settings of the PostgreSQL storage that are not environment references, and a
    driver scheme that is not psycopg2's (SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3)."""
    db = config.get("storage", {}).get("postgres", {}).get("postgres_db")
    if db is None:
        return ["storage is not postgres"]
    connection = {field: value for field, value in db.items() if field != "scheme"}
    problems = [
        f"{field} is {value!r}, not {{env: DAGSTER_PG_...}}"
        for field, value in connection.items()
        if not (isinstance(value, dict) and str(value.get("env", "")).startswith("DAGSTER_PG_"))
    ]
    if db.get("scheme") != "postgresql+psycopg2":
        problems.append(f"scheme is {db.get('scheme')!r}, not postgresql+psycopg2")
    return problems


def test_instance_passes_dagster_validation(tmp_path: Path) -> None:
    assert {"storage", "run_coordinator", "run_launcher"} <= set(instance())
    broken = yaml.safe_load((DAGSTER_DIR / "dagster.yaml").read_text())
    broken["storage"]["postgres"]["postgres_db"]["port"] = "not-a-port"
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(broken))
    with pytest.raises(DagsterInvalidConfigError):
        dagster_instance_config(str(tmp_path))


def test_postgres_connection_comes_from_the_environment() -> None:
    config = instance()
    assert pg_problems(config) == []
    assert config["storage"]["postgres"]["postgres_db"]["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    leaked = {
        "storage": {
            "postgres": {
                "postgres_db": {**config["storage"]["postgres"]["postgres_db"], "password": "hunter2"}
            }
        }
    }
    assert pg_problems(leaked) == ["password is 'hunter2', not {env: DAGSTER_PG_...}"]
    bare = {"storage": {"postgres": {"postgres_db": {**config["storage"]["postgres"]["postgres_db"]}}}}
    del bare["storage"]["postgres"]["postgres_db"]["scheme"]
    assert pg_problems(bare) == ["scheme is None, not postgresql+psycopg2"]
    assert pg_problems({"storage": {"sqlite": {"base_dir": "/tmp"}}}) == ["storage is not postgres"]


def test_runs_are_queued_with_pool_limits() -> None:
    config = instance()
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    coordinator = config["run_coordinator"].get("config", {})
    assert not {"max_concurrent_runs", "tag_concurrency_limits"} & set(coordinator), (
        "the queue's limits belong in `concurrency`"
    )
    assert coordinator["dequeue_interval_seconds"] == 1  # a queued run waits for its turn only
    concurrency = config["concurrency"]
    # no run tag limit: the `vision` pool alone caps GPU work, a tag limit would cap it below the pool
    assert concurrency["runs"] == {"max_concurrent_runs": 8}
    # run granularity: a run waits in the queue while a pool it uses is full; every pool has a limit
    assert concurrency["pools"] == {"default_limit": 1, "granularity": "run"}
    helm = load_yaml(K8S / "dagster-values.yaml")
    assert helm["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"] == {
        "dequeueIntervalSeconds": 1
    }
    helm_concurrency = helm["concurrency"]
    assert helm_concurrency["enabled"] is True
    assert set(helm_concurrency["runs"]) == {"maxConcurrentRuns"}, "compose and Kubernetes: no run tag limit"
    assert helm_concurrency["pools"] == {"defaultLimit": 1, "granularity": "run"}


def test_warehouse_writers_and_the_vision_analysis_are_in_their_pools() -> None:
    assert {marts_dbt.op.pool, *(p.op.pool for p in publications)} == {"warehouse"}
    assert clip_analysis.op.pool == "vision"


def test_runs_launch_in_docker_with_shared_compute_logs() -> None:
    config = instance()
    assert (config["run_launcher"]["module"], config["run_launcher"]["class"]) == (
        "dagster_docker",
        "DockerRunLauncher",
    )
    logs = config["compute_logs"]
    assert process_config(LocalComputeLogManager.config_type(), logs["config"]).success
    base_dir = logs["config"]["base_dir"]
    for name in ("dagster-code", "dagster-webserver"):
        targets = [v.split(":")[1] for v in compose()["services"][name]["volumes"]]
        assert base_dir in targets, f"{name} does not share the compute log volume"


def test_workspace_is_valid_and_points_at_the_code_server() -> None:
    workspace = load_yaml(DAGSTER_DIR / "workspace.yaml")
    result = process_config(WORKSPACE_CONFIG_SCHEMA, workspace)
    assert result.success, result.errors
    assert not process_config(WORKSPACE_CONFIG_SCHEMA, {"load_from": [{"grpc_server": {"prt": 1}}]}).success
    (server,) = [entry["grpc_server"] for entry in workspace["load_from"]]
    code = compose()["services"][server["host"]]
    assert str(server["port"]) in code["healthcheck"]["test"]
    dockerfile = (INFRA.parent / "Dockerfile").read_text()
    assert f'"--port", "{server["port"]}"' in dockerfile
    assert f'"--location-name", "{server["location_name"]}"' in dockerfile
    assert server["location_name"] == pyproject()["tool"]["dagster"]["code_location_name"]


def test_telemetry_is_off_and_crashed_runs_are_detected_and_retried() -> None:
    config = instance()
    assert config["telemetry"] == {"enabled": False}
    assert config["run_monitoring"]["enabled"] is True
    retries = config["run_retries"]
    assert retries["enabled"] is True and retries["max_retries"] >= 1
    assert retries["retry_on_asset_or_op_failure"] is False, "asset failures retry by their own policy"
    daemon = load_yaml(K8S / "dagster-values.yaml")["dagsterDaemon"]
    assert daemon["runMonitoring"]["enabled"] is True
    assert daemon["runRetries"] == {
        "enabled": True,
        "maxRetries": retries["max_retries"],
        "retryOnAssetOrOpFailure": False,
    }

"""dagster.yaml and workspace.yaml, validated by Dagster's own config schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from dagster._config import process_config
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import dagster_instance_config
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.storage.local_compute_log_manager import LocalComputeLogManager
from dagster._core.workspace.config_schema import WORKSPACE_CONFIG_SCHEMA

from tests.infra.helpers import INFRA, K8S, compose, load_yaml, pyproject

DAGSTER_DIR = INFRA / "dagster"


def instance() -> dict[str, Any]:
    config, _ = dagster_instance_config(str(DAGSTER_DIR))
    return dict(config)


def pg_problems(config: dict[str, Any]) -> list[str]:
    """Connection settings of the PostgreSQL storage that are not environment references."""
    db = config.get("storage", {}).get("postgres", {}).get("postgres_db")
    if db is None:
        return ["storage is not postgres"]
    return [
        f"{field} is {value!r}, not {{env: DAGSTER_PG_...}}"
        for field, value in db.items()
        if not (isinstance(value, dict) and str(value.get("env", "")).startswith("DAGSTER_PG_"))
    ]


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
    assert pg_problems({"storage": {"sqlite": {"base_dir": "/tmp"}}}) == ["storage is not postgres"]


def test_runs_are_queued_with_gpu_and_warehouse_limits() -> None:
    coordinator = instance()["run_coordinator"]
    assert coordinator["class"] == "QueuedRunCoordinator"
    result = process_config(QueuedRunCoordinator.config_type(), coordinator["config"])
    assert result.success, result.errors
    limits = {(t["key"], t["value"]): t["limit"] for t in coordinator["config"]["tag_concurrency_limits"]}
    assert limits[("city/warehouse", "write")] == 1, "DuckDB has a single writer"
    assert limits[("city/gpu", "true")] >= 1
    helm = load_yaml(K8S / "dagster-values.yaml")["dagsterDaemon"]["runCoordinator"]["config"]
    helm_limits = {(t["key"], t["value"]) for t in helm["queuedRunCoordinator"]["tagConcurrencyLimits"]}
    assert helm_limits == set(limits), "compose and Kubernetes must honour the same run tags"


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


def test_telemetry_is_off_and_crashed_runs_are_detected() -> None:
    config = instance()
    assert config["telemetry"] == {"enabled": False}
    assert config["run_monitoring"]["enabled"] is True
    assert config["run_retries"]["enabled"] is True

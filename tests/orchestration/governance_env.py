"""Shared set-up of the governance Dagster tests: settings for the real S3 server, a temp registry
(training dated relative to today) and ledger, and a simulated IoT day."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from cityplatform.embedded_s3 import EmbeddedS3
from cityplatform.objectstore import ObjectStore
from cityplatform.settings import load_settings
from citysim import build_city, write_iot_day
from tests.governance.registry_files import city_today, trained_registry

GOVERNANCE_DAY = date(2026, 4, 2)  # the partition these tests ingest; stewardship is judged on the run date


today = city_today


def registry(base: Path, name: str, lapsed: dict[str, date] | None = None) -> Path:
    """A registry copy where everyone is trained, except staff in ``lapsed`` (id -> completion day)."""
    return trained_registry(base / name, lapsed)


@contextmanager
def governance_environment(s3_server: EmbeddedS3, base: Path) -> Iterator[None]:
    """S3 settings, a fresh ledger location, CITY_HOME and a trained registry under ``base``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CITY_HOME", str(base / "home"))
        patch.setenv("CITY_S3_ENDPOINT", s3_server.endpoint)
        patch.setenv("CITY_S3_ACCESS_KEY", s3_server.access_key)
        patch.setenv("CITY_S3_SECRET_KEY", s3_server.secret_key)
        patch.setenv("CITY_OWNERSHIP_LEDGER", f"s3://governance/test-{uuid.uuid4().hex[:8]}/")
        patch.setenv("CITY_GOVERNANCE_REGISTRY", str(registry(base, "trained")))
        yield


def load_iot_day(store: ObjectStore, definitions: dg.Definitions, instance: dg.DagsterInstance) -> str:
    """One simulated day in landing and the sensor registry in bronze (same city as the IoT tests)."""
    city = build_city(seed=7, sensors=40)
    write_iot_day(store, city, GOVERNANCE_DAY, tz=load_settings().zone, seed=7, fault_rate=0.01)
    assert definitions.resolve_job_def("iot_registry").execute_in_process(instance=instance).success
    return GOVERNANCE_DAY.isoformat()


def run(
    definitions: dg.Definitions, instance: dg.DagsterInstance, job: str, partition: str | None = None
) -> dg.ExecuteInProcessResult:
    return definitions.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=partition, raise_on_error=False
    )


def steward_results(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        e.asset_key.to_user_string(): e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "steward_trained"
    }


def materialized(result: dg.ExecuteInProcessResult) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}

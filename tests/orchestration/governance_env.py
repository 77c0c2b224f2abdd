"""Helpers of the governance Dagster tests (their fixtures are in ``conftest.py``): registry copies
with training dated relative to today, job runs that may fail, and what a run checked and wrote."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg

from tests.governance.registry_files import city_today, trained_registry

GOVERNANCE_DAY = date(2026, 4, 2)  # the partition these tests ingest; stewardship is judged on the run date


today = city_today


def registry(base: Path, name: str, lapsed: dict[str, date] | None = None) -> Path:
    """A registry copy where everyone is trained, except staff in ``lapsed`` (id -> completion day)."""
    return trained_registry(base / name, lapsed)


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

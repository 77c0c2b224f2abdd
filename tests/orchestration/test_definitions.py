"""The code location loads, and every asset is governed: owners, group, kinds, description, registry entry."""

from __future__ import annotations

import dagster as dg
import pytest

from governance.registry.ownership import load_ownership
from orchestration.definitions import defs


@pytest.fixture(scope="module")
def definitions() -> dg.Definitions:
    return defs()


@pytest.fixture(scope="module")
def specs(definitions: dg.Definitions) -> dict[str, dg.AssetSpec]:
    return {spec.key.to_user_string(): spec for spec in definitions.resolve_all_asset_specs()}


def test_every_asset_has_an_ownership_entry_and_every_entry_an_asset(specs: dict[str, dg.AssetSpec]) -> None:
    registry = set(load_ownership())
    assert sorted(set(specs) - registry) == [], "assets with no owner in governance/registry/ownership.yaml"
    assert sorted(registry - set(specs)) == [], "ownership entries that name no asset"


def test_every_asset_shows_owners_group_kinds_and_description(specs: dict[str, dg.AssetSpec]) -> None:
    for key, spec in specs.items():
        assert len(spec.owners) == 2, key  # steward and deputy
        assert spec.group_name == key.split("/")[0], key
        assert spec.kinds, key
        assert spec.description, key
        assert {"department", "classification"} <= set(spec.tags), key


def test_jobs_schedule_and_sensor_are_defined(definitions: dg.Definitions) -> None:
    job = definitions.resolve_job_def("iot_ingest_day")
    assert job.partitions_def is not None
    assert definitions.resolve_sensor_def("iot_landing_sensor").job_name == "iot_ingest_day"
    assert definitions.resolve_schedule_def("iot_ingest_day_schedule").cron_schedule == "30 0 * * *"

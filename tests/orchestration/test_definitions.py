"""The code location loads from files alone, and every asset is governed: owners, group, kinds,
description, registry entry, retention; owners' roles, retention and personal data as tags, and no
description with a placeholder the UI's markdown would swallow."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from governance.registry.ownership import load_ownership, load_staff
from orchestration.defs.marts.assets import marts_group
from orchestration.lib.code_location import RESOURCE_KEY
from orchestration.lib.ownership import BASELINE_SOURCE
from orchestration.lib.retention_scope import RETAINED, RETENTION_TAG


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
        assert spec.group_name in _groups(key), key
        assert spec.kinds, key
        assert spec.description, key
        assert {"department", "classification"} <= set(spec.tags), key


def _groups(key: str) -> set[str]:
    """A domain's assets in the domain's group; the marts by department or layer (``marts_group``),
    a department's publication in its department's group."""
    domain, folder, name = key.split("/")
    if domain != "marts":
        return {domain}
    return {marts_group(name)} if folder == "published" else {marts_group(folder)}


def test_owners_roles_retention_and_personal_data_are_tags(specs: dict[str, dg.AssetSpec]) -> None:
    """Dagster owners are bare e-mails: the roles are tags (staff ids) and labelled metadata."""
    staff = load_staff()
    for key, entry in load_ownership().items():
        spec = specs[key]
        assert spec.owners == [staff[entry.steward].email, staff[entry.deputy].email], key
        assert spec.tags["steward"] == entry.steward and spec.tags["deputy"] == entry.deputy, key
        assert spec.tags["retention_days"] == str(entry.retention_days), key
        assert spec.tags["personal_data"] == ("true" if entry.classification == "personal" else "false"), key
        assert staff[entry.steward].name in str(spec.metadata["steward"]), key
        assert staff[entry.deputy].name in str(spec.metadata["deputy"]), key
    assert specs["cctv/raw/clips"].tags["personal_data"] == "true"


# What markdown takes for an HTML tag and hides: ``<kind>``, ``<mart>``, ``<mp4|avi>``.
_PLACEHOLDER = re.compile(r"<[^<>\s]+>")


def test_no_description_holds_a_placeholder_the_ui_would_swallow(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    described = {
        **{f"asset {s.key.to_user_string()}": s.description for s in definitions.resolve_all_asset_specs()},
        **{f"check {key}": graph.get_check_spec(key).description for key in graph.asset_check_keys},
        **{f"job {job.name}": job.description for job in definitions.resolve_all_job_defs()},
        **{f"sensor {s.name}": s.description for s in definitions.sensors or ()},
        **{f"schedule {s.name}": s.description for s in definitions.schedules or ()},
    }
    swallowed = {name: _PLACEHOLDER.findall(text) for name, text in described.items() if text}
    assert {name: found for name, found in swallowed.items() if found} == {}


def test_jobs_schedule_and_sensor_are_defined(definitions: dg.Definitions) -> None:
    job = definitions.resolve_job_def("iot_ingest_day")
    assert job.partitions_def is not None
    assert definitions.resolve_sensor_def("iot_landing_sensor").job_name == "iot_ingest_day"
    assert definitions.resolve_schedule_def("iot_ingest_day_schedule").cron_schedule == "10 1 * * *"


# Loads the code location in a fresh interpreter (nothing imported yet) with every socket connect
# refused and noted (a caller may swallow the error), and prints each asset's owners, where they
# came from, and the connects tried.
_LOAD_OFFLINE = """
import json, socket

tried = []

def refuse(self, address):
    tried.append(str(address))
    raise OSError(f"network call while loading the code location: {address}")

socket.socket.connect = socket.socket.connect_ex = refuse
from orchestration.definitions import defs

definitions = defs()
definitions.get_repository_def()  # resolved as `dagster api grpc` resolves it: jobs, schedules, sensors
specs = definitions.resolve_all_asset_specs()
owners = {s.key.to_user_string(): [s.owners, s.metadata["ownership_source"]] for s in specs}
print(json.dumps({"connects": tried, "owners": owners}))
"""


def test_loading_performs_no_network_call_and_shows_the_registry_owners(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        endpoint = f"127.0.0.1:{probe.getsockname()[1]}"
    env = {**os.environ, "CITY_S3_ENDPOINT": endpoint, "CITY_HOME": str(tmp_path / "home")}
    loaded = subprocess.run(
        [sys.executable, "-c", _LOAD_OFFLINE], env=env, capture_output=True, text=True, check=False
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    result = json.loads(loaded.stdout.splitlines()[-1])
    assert result["connects"] == []
    owners = result["owners"]
    staff = load_staff()
    registry = load_ownership()
    assert set(owners) == set(registry)
    for dataset, entry in registry.items():
        assert owners[dataset] == [[staff[s].email for s in entry.owners], BASELINE_SOURCE], dataset


def test_the_catalogue_handed_to_governance_holds_every_asset_and_check(definitions: dg.Definitions) -> None:
    """The scorecards and retention read the whole code location from it, not from their job."""
    handed = definitions.resources[RESOURCE_KEY]
    graph = definitions.resolve_asset_graph()
    assert set(handed.specs) == set(graph.get_all_asset_keys())
    assert handed.check_keys == graph.asset_check_keys
    names = {key.name for key in handed.check_keys}
    assert {"steward_trained", "contract", "nothing_past_retention"} <= names


def test_personal_and_restricted_datasets_are_under_retention(specs: dict[str, dg.AssetSpec]) -> None:
    """Data about people is deleted once past its period: its domain must put it under retention."""
    retained = {key for key, s in specs.items() if s.tags.get(RETENTION_TAG) == RETAINED[RETENTION_TAG]}
    sensitive = {key for key, s in specs.items() if s.tags["classification"] in {"personal", "restricted"}}
    assert sensitive and sensitive <= retained

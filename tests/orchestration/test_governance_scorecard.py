"""Scorecards and the steward report from real runs, and ``city stewards me`` on that instance.

The module has an S3 server of its own: scorecards and reports are keyed by the run date only.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner

from cityapp.cli.main import app
from cityplatform.objectstore import ObjectStore, read_parquet
from governance.registry.ownership import load_ownership
from governance.registry.registry import load_registry
from governance.registry.training import add_months
from tests.orchestration.governance_env import registry, run, today

pytestmark = [pytest.mark.integration, pytest.mark.own_s3, pytest.mark.usefixtures("governance_env")]


@pytest.fixture(scope="module")
def scored(
    governance_env: Path, definitions: dg.Definitions, instance: dg.DagsterInstance, iot_day: str
) -> Iterator[dict[str, dg.MaterializeResult]]:
    """A failing IoT run (owners untrained), then the scorecards with S-030 expiring and S-025 lapsed."""
    lapsed = today() - timedelta(days=800)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(
            "CITY_GOVERNANCE_REGISTRY",
            str(registry(governance_env, "lapsed", {"S-007": lapsed, "S-014": lapsed})),
        )
        assert not run(definitions, instance, "iot_ingest_day", iot_day).success
        mixed = registry(
            governance_env, "mixed", {"S-025": lapsed, "S-030": add_months(today() + timedelta(days=10), -24)}
        )
        patch.setenv("CITY_GOVERNANCE_REGISTRY", str(mixed))
        result = run(definitions, instance, "governance_scorecard")
        assert result.success  # S-030's expiring training warns on their scorecards but blocks nothing
        yield {
            e.asset_key.to_user_string(): e.step_materialization_data.materialization
            for e in result.get_asset_materialization_events()
        }


def stored_card(store: ObjectStore, department: str) -> dict:
    return json.loads(store.get_bytes("governance", f"scorecards/{department}/{today().isoformat()}.json"))


def test_every_department_gets_a_scorecard_in_s3(scored: dict, store: ObjectStore) -> None:
    departments = {"traffic", "public_safety", "environment", "disaster_management", "policy_planning"}
    assert {f"governance/scorecard/{d}" for d in departments} | {"governance/report/steward_report"} == set(
        scored
    )
    registry = load_ownership()
    for department in departments:
        card = stored_card(store, department)
        assert card["datasets"] == sum(o.department == department for o in registry.values())


def test_failed_checks_read_from_the_instance_are_open_on_the_owning_department(
    scored: dict, store: ObjectStore
) -> None:
    traffic = stored_card(store, "traffic")
    assert "iot/raw/readings:steward_trained" in traffic["failed_checks"]
    meta = scored["governance/scorecard/traffic"].metadata
    assert meta["failed_checks_open"].value == traffic["failed_checks_open"] >= 1


def test_expiring_training_and_one_person_datasets_are_counted(scored: dict, store: ObjectStore) -> None:
    planning = stored_card(store, "policy_planning")
    expiring = {(e["staff"], e["course"]) for e in planning["expiring"]}
    assert ("S-030", "stewardship-fundamentals") in expiring
    assert "iot/bronze/districts" in planning["single_trained"]  # S-025 lapsed, S-003 trained
    rows = planning["rows"]
    both = [r["dataset"] for r in rows if len(r["trained_owners"]) == 2]
    assert "governance/report/steward_report" in both and "iot/bronze/districts" not in both
    assert planning["share_owner_and_deputy_trained"] == pytest.approx(len(both) / len(rows), abs=1e-4)
    warned = {r["dataset"] for r in rows if r["status"] == "warn"}
    assert {"governance/scorecard/policy_planning", "governance/report/steward_report"} <= warned  # S-030
    assert planning["steward_trained_warn"] == len(warned)
    committed = load_registry().grants  # the scorecard's registry copy keeps them as committed
    assert planning["grants_due_for_renewal"] == sum(
        g.department == "policy_planning" and g.due_for_renewal(today()) for g in committed
    )


def test_grants_due_for_renewal_come_from_the_grants_registry(
    scored: dict,
    governance_env: Path,
    store: ObjectStore,
    instance: dg.DagsterInstance,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from orchestration.definitions import defs

    directory = registry(governance_env, "grants")
    soon, later = today() + timedelta(days=12), today() + timedelta(days=200)
    (directory / "grants.yaml").write_text(
        "grants:\n"
        f"  - {{department: traffic, buckets: [marts-traffic], purpose: signal timing, approved_by: S-003,"
        f" expires_on: {soon}}}\n"
        f"  - {{department: traffic, buckets: [marts-planning], purpose: planning, approved_by: S-003,"
        f" expires_on: {later}}}\n"
    )
    monkeypatch.setenv("CITY_GOVERNANCE_REGISTRY", str(directory))
    assert run(defs(), instance, "governance_scorecard").success
    assert stored_card(store, "traffic")["grants_due_for_renewal"] == 1
    assert stored_card(store, "environment")["grants_due_for_renewal"] == 0


def test_steward_report_is_html_with_an_embedded_plot_and_parquet_rows(
    scored: dict, city_env: Path, store: ObjectStore
) -> None:
    html = (city_env / "reports" / f"steward-report-{today().isoformat()}.html").read_text()
    png = base64.b64decode(html.split("data:image/png;base64,")[1].split('"')[0])
    assert png.startswith(b"\x89PNG")
    assert "iot/bronze/districts" in html and "S-030" in html
    rows = read_parquet(store, "governance", f"reports/{today().isoformat()}/datasets.parquet")
    assert rows.height == len(load_ownership())
    assert scored["governance/report/steward_report"].metadata["datasets_warning"].value >= 2


def test_me_shows_checks_freshness_and_consumers_from_the_instance(
    scored: dict, instance: dg.DagsterInstance
) -> None:
    result = CliRunner().invoke(
        app,
        ["stewards", "me", "--staff-id", "S-007", "--json"],
        env={"DAGSTER_HOME": instance.root_directory},
    )
    profile = json.loads(result.stdout)
    raw = next(d for d in profile["datasets"] if d["dataset"] == "iot/raw/readings")
    assert raw["checks"]["steward_trained"]["outcome"] == "failed"  # the last run, when S-007 was untrained
    assert raw["last_materialized"] is not None
    assert raw["downstream"] == ["iot/bronze/readings", "iot/quarantine/readings"]
    assert raw["role"] == "steward" and raw["other_owner"] == "S-014"
    assert result.exit_code == 4  # a dataset S-007 owns has a failed check open

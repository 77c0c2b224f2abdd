"""``steward_trained`` on every asset: real Dagster runs on a test instance against the real S3 server.

The registry comes from a temp copy (``CITY_GOVERNANCE_REGISTRY``) whose training dates are set
relative to today, so the outcomes do not drift with the calendar; the committed YAML is untouched.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from cityplatform.layout import parse_lineage_event_key
from cityplatform.objectstore import LINEAGE, ObjectStore
from cityplatform.settings import load_settings
from citysim import build_city, write_iot_day
from governance.lineage.naming import child_run_id
from governance.registry.registry import load_registry
from governance.registry.training import add_months
from governance.stewardship.handover import plan_handover
from governance.stewardship.ledger_store import OwnershipLedger, current_ownership
from orchestration.definitions import defs
from tests.conftest import fresh_ledger
from tests.orchestration.governance_env import (
    GOVERNANCE_DAY,
    materialized,
    registry,
    run,
    steward_results,
    today,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("governance_env")]

RAW, BRONZE, QUARANTINE = "iot/raw/readings", "iot/bronze/readings", "iot/quarantine/readings"


def test_every_asset_has_one_blocking_steward_trained_check(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        spec = graph.get_check_spec(dg.AssetCheckKey(key, "steward_trained"))
        assert spec.blocking, key
    job_checks = definitions.resolve_job_def("iot_ingest_day").asset_layer.asset_graph.asset_check_keys
    assert {c.asset_key.to_user_string() for c in job_checks if c.name == "steward_trained"} == {
        RAW,
        BRONZE,
        QUARANTINE,
    }


def test_passes_in_the_same_partitioned_run_when_owners_are_trained(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    iot_day: str,
) -> None:
    result = run(definitions, instance, "iot_ingest_day", iot_day)
    assert result.success
    checks = steward_results(result)
    assert set(checks) == {RAW, BRONZE, QUARANTINE}
    assert all(check.passed for check in checks.values())
    meta = {k: getattr(v, "value", v) for k, v in checks[RAW].metadata.items()}
    assert meta["courses_required"] == "stewardship-fundamentals, data-quality"
    assert meta["evaluated_on"] == today().isoformat()
    assert set(meta["training"]) == {"S-007", "S-014"}
    expiry = add_months(today() - timedelta(days=30), 24)  # everyone_trained: a month ago, 24-month course
    assert meta["training"]["S-007"]["courses"]["data-quality"]["expires_on"] == expiry.isoformat()


def test_fails_and_blocks_downstream_when_no_owner_has_current_training(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    iot_day: str,
    governance_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lapsed = today() - timedelta(days=800)  # 24-month courses expired about a month ago
    monkeypatch.setenv(
        "CITY_GOVERNANCE_REGISTRY",
        str(registry(governance_env, "expired", {"S-007": lapsed, "S-014": lapsed})),
    )
    result = run(definitions, instance, "iot_ingest_day", iot_day)
    assert not result.success
    raw = steward_results(result)[RAW]
    assert not raw.passed and raw.severity is dg.AssetCheckSeverity.ERROR
    assert "no owner has current training for internal" in (raw.description or "")
    assert materialized(result) == {RAW}  # bronze and quarantine were not written in this run
    assert BRONZE not in steward_results(result)


def test_warns_without_blocking_when_training_expires_within_30_days(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    iot_day: str,
    governance_env: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    soon = add_months(today() + timedelta(days=10), -24)  # 24-month courses expire in 10 days
    monkeypatch.setenv("CITY_GOVERNANCE_REGISTRY", str(registry(governance_env, "expiring", {"S-007": soon})))
    result = run(definitions, instance, "iot_ingest_day", iot_day)
    assert result.success
    checks = steward_results(result)
    assert not checks[RAW].passed and checks[RAW].severity is dg.AssetCheckSeverity.WARN
    assert "renew before it lapses" in (checks[RAW].description or "")
    assert {RAW, BRONZE, QUARANTINE} <= materialized(result)


def test_a_handover_in_the_ledger_decides_the_next_run(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    iot_day: str,
    governance_env: Path,
    store: ObjectStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lapsed = today() - timedelta(days=800)
    directory = registry(governance_env, "handover", {"S-007": lapsed, "S-014": lapsed})
    monkeypatch.setenv("CITY_GOVERNANCE_REGISTRY", str(directory))
    assert not run(definitions, instance, "iot_ingest_day", iot_day).success
    registry_now = load_registry(directory)
    ledger = OwnershipLedger(store)
    change = plan_handover(
        registry_now, current_ownership(registry_now, ledger).datasets, dataset=RAW, to_staff="S-011",
        approved_by="S-003", reason="S-007 moves to the CCTV programme", on=today(),
    )  # fmt: skip
    ledger.append(change)
    result = run(definitions, instance, "iot_ingest_day", iot_day)
    assert result.success
    meta = steward_results(result)[RAW].metadata
    assert meta["trained_owners"].value == "S-011"
    assert "1 handovers" in meta["ownership_source"].value
    # lineage reports the owners of the run too, though the code location loaded the registry's
    lineage_run = child_run_id(result.run_id, RAW)
    (complete,) = [
        json.loads(store.get_bytes(LINEAGE, o.key))
        for o in store.list_objects(LINEAGE, "events/")
        if (event := parse_lineage_event_key(o.key))
        and (event.run_id, event.event_type) == (lineage_run, "COMPLETE")
    ]
    (output,) = complete["outputs"]
    owners = [owner["name"] for owner in output["facets"]["ownership"]["owners"]]
    assert f"user:{registry_now.staff['S-011'].email}" in owners


def test_a_tampered_ledger_fails_every_check(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    iot_day: str,
    store: ObjectStore,
) -> None:
    ledger = OwnershipLedger(store)
    first = next(iter(store.list_objects(ledger.bucket, ledger.prefix)), None)
    if first is None:  # runs alone: record one handover to tamper with
        test_registry = load_registry()
        ledger.append(plan_handover(
            test_registry, test_registry.ownership, dataset=RAW, to_staff="S-011", approved_by="S-003",
            reason="set-up", on=today(),
        ))  # fmt: skip
        first = next(iter(store.list_objects(ledger.bucket, ledger.prefix)))
    store.put_bytes(
        first.bucket, first.key, store.get_bytes(first.bucket, first.key).replace(b"S-011", b"S-018")
    )
    result = run(definitions, instance, "iot_registry")
    assert not result.success
    failures = [e for e in steward_results(result).values() if not e.passed]
    assert failures and all("owners cannot be trusted" in (e.description or "") for e in failures)
    store.delete_prefix(ledger.bucket, ledger.prefix)  # leave a clean ledger behind


def test_a_ledger_cut_after_the_scorecards_read_it_is_refused(
    store: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleting the newest handover leaves a chain that verifies on its own; the head the scorecards
    recorded in the event log shows the cut to the next scorecards and to every check."""
    monkeypatch.setenv("CITY_OWNERSHIP_LEDGER", fresh_ledger())  # a ledger and an instance of its own
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        ledger = OwnershipLedger(store)
        for to_staff in ("S-011", "S-007"):
            now = load_registry()
            ledger.append(plan_handover(
                now, current_ownership(now, ledger).datasets, dataset=RAW, to_staff=to_staff,
                approved_by="S-003", reason="rota change", on=today(),
            ))  # fmt: skip
        definitions = defs()
        assert run(definitions, instance, "governance_scorecard").success
        store.delete_prefix(ledger.bucket, ledger.prefix + ledger.entries()[-1].name)
        assert ledger.verify().ok and len(ledger.entries()) == 1

        scorecards = run(definitions, instance, "governance_scorecard")
        assert not scorecards.success
        errors = [str(e.step_failure_data.error) for e in scorecards.all_events if e.is_step_failure]
        assert any("holds 1 entries where 2 were seen" in error for error in errors)
        city = build_city(seed=7, sensors=40)
        write_iot_day(store, city, GOVERNANCE_DAY, tz=load_settings().zone, seed=7, fault_rate=0.01)
        checks = steward_results(run(definitions, instance, "iot_registry")).values()
        assert checks and all(
            not check.passed and "the newest were removed" in (check.description or "") for check in checks
        )

"""``steward_trained`` on every asset: real Dagster runs on a test instance against the real S3 server.

The registry comes from a temp copy (``CITY_GOVERNANCE_REGISTRY``) whose training dates are set
relative to today, so the outcomes do not drift with the calendar; the committed YAML is untouched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.api import create_execution_plan

from cityplatform.layout import parse_lineage_event_key
from cityplatform.objectstore import LINEAGE, ObjectStore
from cityplatform.settings import load_settings
from citysim import build_city, write_iot_day
from governance.lineage.naming import child_run_id
from governance.registry.registry import load_registry
from governance.registry.training import add_months
from governance.stewardship.handover import plan_handover
from governance.stewardship.identity import Requester
from governance.stewardship.ledger_store import OwnershipLedger, current_ownership
from orchestration.definitions import defs
from orchestration.defs.governance.checks import CHECK_NAME, DESCRIPTION, with_steward_checks
from orchestration.lib.lineage import LineageResource, emits_lineage
from orchestration.lib.resources import CityStorage
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

DEPUTY = Requester("S-014", "environment")  # the deputy of iot/raw/readings asks for its handovers


def test_every_asset_has_one_blocking_steward_trained_check(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        spec = graph.get_check_spec(dg.AssetCheckKey(key, "steward_trained"))
        assert spec.blocking and spec.description == DESCRIPTION, key
    job_checks = definitions.resolve_job_def("iot_ingest_day").asset_layer.asset_graph.asset_check_keys
    assert {c.asset_key.to_user_string() for c in job_checks if c.name == "steward_trained"} == {
        RAW,
        BRONZE,
        QUARANTINE,
    }


@pytest.mark.parametrize(("job_name", "steps"), [("iot_ingest_day", 2), ("marts_build_day", 15)])
def test_the_checks_add_no_step_per_asset(definitions: dg.Definitions, job_name: str, steps: int) -> None:
    """Out of process each step is a subprocess that imports the code location (before: 5 steps in
    iot_ingest_day, 48 in marts_build_day, one per check). A check is judged in its asset's step,
    but the dbt models' checks: a subsettable op, they share a step beside it per folder of models
    (9: staging, intermediate, reference, the registry snapshots and each of the 5 departments' marts)."""
    job = definitions.resolve_job_def(job_name)
    plan = create_execution_plan(job).get_all_steps_in_topo_order()
    step_of_asset: dict[dg.AssetKey, str] = {}
    step_of_check: dict[dg.AssetKey, str] = {}
    for step in plan:
        for output in step.step_outputs:
            asset, check = output.properties.asset_key, output.properties.asset_check_key
            if check is not None and check.name == CHECK_NAME:
                step_of_check[check.asset_key] = step.key
            elif asset is not None and check is None:
                step_of_asset[asset] = step.key
    assert len(plan) == steps
    assert set(step_of_check) == set(step_of_asset) == set(job.asset_layer.executable_asset_keys)
    beside = {key for key, step in step_of_check.items() if step != step_of_asset[key]}
    assert {step_of_asset[key] for key in beside} <= {"marts_dbt"}
    assert {step_of_check[key] for key in beside} == {
        f"marts_dbt__{'__'.join(key.path[:-1])}_{CHECK_NAME}" for key in beside
    }


def test_a_department_publication_waits_for_its_own_marts_checks_only(definitions: dg.Definitions) -> None:
    """One department's untrained steward blocks its publication, not the other departments'."""
    plan = create_execution_plan(definitions.resolve_job_def("marts_build_day"))
    for department in ("traffic", "public_safety", "environment", "disaster_management", "policy_planning"):
        step = plan.get_step_by_key(f"marts__published__{department}")
        assert step.get_execution_dependency_keys() == {
            "marts_dbt",
            f"marts_dbt__marts__{department}_{CHECK_NAME}",
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
        requester=DEPUTY, approved_by="S-003", reason="S-007 moves to the CCTV programme", on=today(),
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
            test_registry, test_registry.ownership, dataset=RAW, to_staff="S-011", requester=DEPUTY,
            approved_by="S-003", reason="set-up", on=today(),
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
                requester=DEPUTY, approved_by="S-003", reason="rota change", on=today(),
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


UNOWNED, DOWNSTREAM = dg.AssetKey(["steward_test", "unowned"]), dg.AssetKey(["steward_test", "downstream"])
PAIR = [dg.AssetKey(["steward_test", "left"]), dg.AssetKey(["steward_test", "right"])]
EXTERNAL = dg.AssetKey(["steward_test", "external"])
AFTER_PAIR = dg.AssetKey(["steward_test", "after_pair"])
PAIR_BODY_RAN: list[set[dg.AssetKey]] = []  # the selection each run of the pair's body had


def _uri(key: dg.AssetKey) -> dict[str, str]:
    return {"dagster/uri": f"s3://bronze/steward-test/{key.path[-1]}/"}


@dg.asset(key=UNOWNED, metadata=_uri(UNOWNED))
@emits_lineage
def unowned(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult()


@dg.asset(key=DOWNSTREAM, deps=[UNOWNED], metadata=_uri(DOWNSTREAM))
@emits_lineage
def downstream(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult()


@dg.multi_asset(
    specs=[dg.AssetSpec(key, metadata=_uri(key), skippable=True) for key in PAIR], can_subset=True
)
@emits_lineage
def pair(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
    PAIR_BODY_RAN.append(set(context.selected_asset_keys))
    for key in sorted(context.selected_asset_keys, key=str):
        yield dg.MaterializeResult(asset_key=key)


@dg.asset(key=AFTER_PAIR, deps=[PAIR[0]], metadata=_uri(AFTER_PAIR))
@emits_lineage
def after_pair(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult()


@pytest.fixture(scope="module")
def unowned_assets() -> dg.Definitions:
    """Assets no ownership entry names, with the resources the code location gives them."""
    return with_steward_checks(
        dg.Definitions(
            assets=[unowned, downstream, pair, after_pair, dg.AssetSpec(EXTERNAL, metadata=_uri(EXTERNAL))],
            resources={"storage": CityStorage(), "lineage": LineageResource()},
        )
    )


def test_an_asset_with_no_owner_fails_and_blocks_downstream(
    unowned_assets: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    """Judged in its asset's step, or beside a subsettable op, or alone for an external asset."""
    job = unowned_assets.resolve_implicit_global_asset_job_def()
    steps = {step.key for step in create_execution_plan(job).get_all_steps_in_topo_order()}
    assert steps == {
        "steward_test__unowned",
        "steward_test__downstream",
        "pair",
        "pair__steward_test_steward_trained",
        "steward_test__after_pair",
        "steward_test__external_steward_trained",
    }
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    assert materialized(result) == {key.to_user_string() for key in (UNOWNED, *PAIR)}
    checks = steward_results(result)
    assert set(checks) == {key.to_user_string() for key in (UNOWNED, EXTERNAL, *PAIR)}
    for check in checks.values():
        assert not check.passed and check.severity is dg.AssetCheckSeverity.ERROR
        assert (check.description or "").startswith("no owner: not in ")
    failed = {e.step_key for e in result.all_events if e.is_step_failure}
    started = {e.step_key for e in result.all_events if e.is_step_start}
    assert {"steward_test__unowned", "pair__steward_test_steward_trained"} <= failed
    assert not {"steward_test__downstream", "steward_test__after_pair"} & started


def test_a_subsettable_op_asked_for_the_check_alone_only_judges(
    unowned_assets: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    """As a check step of its own did: nothing is built, the owners are judged."""
    left = dg.AssetCheckKey(PAIR[0], CHECK_NAME)
    check_only = dg.define_asset_job("steward_only", selection=dg.AssetSelection.checks(left))
    job = dg.Definitions.merge(unowned_assets, dg.Definitions(jobs=[check_only])).resolve_job_def(
        "steward_only"
    )
    PAIR_BODY_RAN.clear()
    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert PAIR_BODY_RAN == [] and materialized(result) == set()
    assert [(e.asset_check_key, e.passed) for e in result.get_asset_check_evaluations()] == [(left, False)]

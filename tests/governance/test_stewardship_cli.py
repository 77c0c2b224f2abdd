"""``city stewards``: handover, history, verify and me, through the real CLI against the real S3 server."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cityapp.cli.main import app
from cityplatform.embedded_s3 import free_port
from cityplatform.objectstore import ObjectStore
from cityplatform.settings import Settings
from governance.registry.training import add_months
from governance.stewardship.ledger_store import OwnershipLedger
from tests.governance.registry_files import city_today, trained_registry

pytestmark = pytest.mark.integration

RIVER = "iot/bronze/river_gauges"  # baseline: steward S-022, deputy S-011


def s030_completed() -> date:
    return add_months(city_today() + timedelta(days=14), -24)


@pytest.fixture
def env(city_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # and no Dagster instance in the fresh CITY_HOME
    # S-030's internal-level training lapses in 14 days; S-025's lapsed a month ago; the rest is current.
    completed = {"S-030": s030_completed(), "S-025": add_months(city_today(), -25)}
    registry = trained_registry(tmp_path / "registry", completed)
    monkeypatch.setenv("CITY_GOVERNANCE_REGISTRY", str(registry))
    return registry


def city(*args: str) -> Result:
    return CliRunner().invoke(app, ["stewards", *args])


def said(result: Result) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def table_columns(table: str) -> list[str]:
    """The text of each column of a rich table, its lines joined (rows follow one another)."""
    cells = [line.strip("│").split("│") for line in table.splitlines() if line.startswith("│")]
    return [
        " ".join(" ".join(cell.split()) for cell in column if cell.strip())
        for column in zip(*cells, strict=True)
    ]


def handover(to: str = "S-014", approver: str = "S-003", dataset: str = RIVER) -> Result:
    return city(
        "handover",
        dataset,
        "--to",
        to,
        "--reason",
        "Kang moves to the flood centre",
        "--approved-by",
        approver,
    )


def test_handover_is_recorded_shown_in_history_and_verified(env: Path) -> None:
    recorded = handover()
    assert recorded.exit_code == 0, recorded.output
    assert "recorded entry 1 of the ownership ledger: iot/bronze/river_gauges steward" in said(recorded)
    assert "S-022 Kang Tae-yang -> S-014 Choi Hyun-woo" in said(recorded)
    assert "approved by S-003 Kim Min-ji" in said(recorded)

    history = city("history", RIVER, "--json")
    document = json.loads(history.stdout)
    assert document["baseline"]["steward"] == "S-022"
    assert [(h["from_staff"], h["to_staff"], h["approved_by"]) for h in document["handovers"]] == [
        ("S-022", "S-014", "S-003")
    ]
    table = said(city("history", RIVER))
    assert "Ownership of iot/bronze/river_gauges" in table and "S-014" in table  # layout follows the terminal

    verified = city("verify")
    assert verified.exit_code == 0 and "1 entries, chain intact" in said(verified)

    second = handover(to="S-007", approver="S-014")  # S-014 is now the steward: the requester
    assert second.exit_code == 2 and "S-014 is the current steward" in said(second)


def test_self_approval_is_refused_and_nothing_is_written(env: Path, store: ObjectStore) -> None:
    refused = handover(approver="S-022")
    assert refused.exit_code == 2
    assert "S-022 is the current steward of iot/bronze/river_gauges and requests this handover" in said(
        refused
    )
    assert OwnershipLedger(store).entries() == ()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"dataset": "iot/bronze/unknown"}, "unknown dataset 'iot/bronze/unknown'"),
        ({"to": "S-999"}, "--to: unknown staff id S-999"),
        ({"approver": "S-998"}, "--approved-by: unknown staff id S-998"),
    ],
)
def test_unknown_datasets_and_staff_are_refused(env: Path, arguments: dict[str, str], message: str) -> None:
    result = handover(**arguments)
    assert result.exit_code == 2 and message in said(result)


def test_verify_names_the_tampered_entry_and_handover_stops(env: Path, store: ObjectStore) -> None:
    assert handover().exit_code == 0
    assert handover(dataset="iot/bronze/districts", to="S-011", approver="S-007").exit_code == 0
    ledger = OwnershipLedger(store)
    first = ledger.entries()[0]
    key = ledger.prefix + first.name
    store.put_bytes(ledger.bucket, key, store.get_bytes(ledger.bucket, key).replace(b"S-014", b"S-018"))
    result = city("verify")
    assert result.exit_code == 4
    assert first.name in said(result) and "hash mismatch" in said(result)
    assert handover(dataset="iot/bronze/road_segments", to="S-011").exit_code == 4


def test_unreachable_storage_exits_3(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITY_S3_ENDPOINT", f"127.0.0.1:{free_port()}")
    result = city("verify")
    assert result.exit_code == 3 and "does not answer" in said(result)


@pytest.mark.parametrize(("staff", "code"), [("S-014", 0), ("S-030", 5), ("S-025", 4)])
def test_me_exit_code_says_how_urgently_to_act(env: Path, staff: str, code: int) -> None:
    result = city("me", "--staff-id", staff)
    assert result.exit_code == code, result.output
    assert "Your training" in said(result) and "No Dagster instance at" in said(result)


def test_me_json_lists_datasets_training_and_qualifications(env: Path) -> None:
    result = city("me", "--staff-id", "S-030", "--json")
    assert result.exit_code == 5
    profile = json.loads(result.stdout)
    assert profile["attention"] == "soon" and profile["dagster_instance"] is None
    owned = {d["dataset"]: d for d in profile["datasets"]}
    report, scorecard = (
        owned["governance/report/steward_report"],
        owned["governance/scorecard/policy_planning"],
    )
    assert report["steward_trained_now"] == "warn" and report["reasons"]
    assert (report["role"], report["other_owner"], report["downstream"]) == ("steward", "S-003", [])
    assert scorecard["downstream"] == ["governance/report/steward_report"]
    expires = add_months(s030_completed(), 24).isoformat()
    fundamentals = next(t for t in profile["training"] if t["course"] == "stewardship-fundamentals")
    assert (fundamentals["state"], fundamentals["expires_on"]) == ("expiring", expires)
    assert profile["qualified_for"]["internal"] == {"trained": True, "until": expires}
    assert profile["qualified_for"]["personal"] == {
        "trained": False,
        "until": None,
    }  # 12-month courses lapsed


def test_me_refuses_an_unknown_staff_id(env: Path) -> None:
    result = city("me", "--staff-id", "S-404")
    assert result.exit_code == 2 and "unknown staff id S-404" in said(result)


def test_me_at_80_columns_says_what_to_do_first_and_keeps_every_column(env: Path) -> None:
    result = CliRunner().invoke(app, ["stewards", "me", "--staff-id", "S-030"], env={"COLUMNS": "80"})
    assert result.exit_code == 5, result.output
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    days = (add_months(s030_completed(), 24) - city_today()).days
    assert lines[0].startswith("2 actions needed: renew Data-stewardship fundamentals")
    assert f"  - renew Data-stewardship fundamentals (expires in {days} days" in lines[1]
    table = result.stdout.split("Datasets you own or deputise", 1)[1].split("Your training", 1)[0]
    what, standing = table_columns(table)
    assert "governance/report/ steward_report steward with S-003, internal" in what  # stacked
    assert "WARN steward S-030 Han So-hee: trained for internal until" in standing  # and why
    assert "checks: no results downstream: governance/report/steward_report" in standing

    wide = CliRunner().invoke(app, ["stewards", "me", "--staff-id", "S-030"], env={"COLUMNS": "140"})
    header = next(line for line in wide.stdout.splitlines() if line.startswith("┃"))
    assert [h.strip() for h in header.strip("┃").split("┃")] == [
        "dataset",
        "role",
        "class",
        "steward_trained now",
        "last checks",
        "last materialised",
        "downstream",
    ]


def test_every_stewards_command_that_prints_data_prints_json(env: Path) -> None:
    recorded = city(
        "handover", RIVER, "--to", "S-014", "--reason", "moves", "--approved-by", "S-003", "--json"
    )
    assert recorded.exit_code == 0, recorded.output
    entry = json.loads(recorded.stdout)
    assert (entry["seq"], entry["to_staff"]) == (1, "S-014") and entry["uri"].endswith(".json")
    verified = json.loads(city("verify", "--json").stdout)
    assert (verified["intact"], verified["entries"], verified["broken_at"]) == (True, 1, None)
    profile = json.loads(city("me", "--staff-id", "S-014", "--json").stdout)
    assert profile["actions"] == []

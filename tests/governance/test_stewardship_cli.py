"""``city stewards``: handover, history, verify and me, through the real CLI against the real S3 server;
verify against a head anchored in a real Dagster instance as the scorecards anchor it."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from typer.testing import CliRunner, Result

from cityapp.cli.main import app
from cityplatform.embedded_s3 import free_port
from cityplatform.objectstore import ObjectStore
from cityplatform.settings import Settings
from governance.registry.training import add_months
from governance.stewardship.identity import issue_token
from governance.stewardship.ledger_store import OwnershipLedger
from orchestration.defs.governance.keys import SCORECARDS
from orchestration.defs.governance.status import ledger_metadata
from tests.governance.registry_files import city_today, trained_registry

pytestmark = pytest.mark.integration

RIVER = "iot/bronze/river_gauges"  # baseline: steward S-022, deputy S-011


def s030_completed() -> date:
    return add_months(city_today() + timedelta(days=14), -24)


@pytest.fixture
def env(city_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # and no Dagster instance in the fresh CITY_HOME
    for name in ("CITY_STAFF_ID", "CITY_IDENTITY_TOKEN", "CITY_IDENTITY_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)  # nobody runs the command unless a test says who
    # S-030's internal-level training lapses in 14 days; S-025's lapsed a month ago; the rest is current.
    completed = {"S-030": s030_completed(), "S-025": add_months(city_today(), -25)}
    registry = trained_registry(tmp_path / "registry", completed)
    monkeypatch.setenv("CITY_GOVERNANCE_REGISTRY", str(registry))
    return registry


def city(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, ["stewards", *args], env=env)


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


def handover(
    to: str = "S-014", approver: str = "S-003", dataset: str = RIVER, requester: str | None = "S-022"
) -> Result:
    """A handover that ``requester`` runs (in dev, by CITY_STAFF_ID); S-003 is a governance officer."""
    arguments = ("handover", dataset, "--to", to, "--reason", "Kang moves to the flood centre")
    return city(
        *arguments, "--approved-by", approver, env={"CITY_STAFF_ID": requester} if requester else None
    )


def test_handover_is_recorded_shown_in_history_and_verified(env: Path) -> None:
    recorded = handover()
    assert recorded.exit_code == 0, recorded.output
    assert "recorded entry 1 of the ownership ledger: iot/bronze/river_gauges steward" in said(recorded)
    assert "S-022 Kang Tae-yang -> S-014 Choi Hyun-woo" in said(recorded)
    assert "requested by S-022 Kang Tae-yang (CITY_STAFF_ID)" in said(recorded)
    assert "approved by S-003 Kim Min-ji (governance officer)" in said(recorded)

    history = city("history", RIVER, "--json")
    document = json.loads(history.stdout)
    assert document["baseline"]["steward"] == "S-022"
    assert [
        (h["from_staff"], h["to_staff"], h["requested_by"], h["requested_via"], h["approved_by"])
        for h in document["handovers"]
    ] == [("S-022", "S-014", "S-022", "environment", "S-003")]
    table = said(city("history", RIVER))
    assert "Ownership of iot/bronze/river_gauges" in table and "S-014" in table  # layout follows the terminal

    verified = city("verify")
    assert verified.exit_code == 0 and "1 entries, chain intact" in said(verified)

    second = handover(to="S-007", approver="S-014", requester="S-014")  # S-014 is now the steward
    assert second.exit_code == 2
    assert "S-014 is the current steward of iot/bronze/river_gauges and requests this handover" in said(
        second
    )


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
    districts = handover(dataset="iot/bronze/districts", to="S-011", approver="S-044", requester="S-025")
    assert districts.exit_code == 0, districts.output
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
        "handover", RIVER, "--to", "S-014", "--reason", "moves", "--approved-by", "S-003", "--json",
        env={"CITY_STAFF_ID": "S-022"},
    )  # fmt: skip
    assert recorded.exit_code == 0, recorded.output
    entry = json.loads(recorded.stdout)
    assert (entry["seq"], entry["to_staff"]) == (1, "S-014") and entry["uri"].endswith(".json")
    verified = json.loads(city("verify", "--json").stdout)
    assert (verified["intact"], verified["entries"], verified["broken_at"]) == (True, 1, None)
    profile = json.loads(city("me", "--staff-id", "S-014", "--json").stdout)
    assert profile["actions"] == []


# --- who may approve, and who asks ----------------------------------------------------------------------


def test_approval_by_someone_without_the_role_is_refused_and_by_the_department_head_accepted(
    env: Path, store: ObjectStore
) -> None:
    refused = handover(approver="S-025")  # a policy analyst, lapsed too
    assert refused.exit_code == 2
    assert said(refused) == (
        "error: S-025 Yoon Ji-woo may not approve handovers of iot/bronze/river_gauges "
        "(disaster_management); who may approve: S-043 Lim Hye-jin (head of disaster_management), "
        "S-003 Kim Min-ji (governance officer), S-030 Han So-hee (governance officer)"
    )
    assert OwnershipLedger(store).entries() == ()
    deputy = handover(approver="S-011")  # the outgoing deputy approving their own colleague's successor
    assert deputy.exit_code == 2 and "S-011 is the current deputy of iot/bronze/river_gauges" in said(deputy)
    accepted = handover(approver="S-043")
    assert accepted.exit_code == 0, accepted.output
    assert "approved by S-043 Lim Hye-jin (head of disaster_management)" in said(accepted)
    (entry,) = OwnershipLedger(store).entries()
    assert (entry.requested_by, entry.requested_via, entry.approved_by) == ("S-022", "environment", "S-043")


def test_a_handover_nobody_is_named_to_ask_for_is_refused(env: Path, store: ObjectStore) -> None:
    result = handover(requester=None)
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: who is asking? set CITY_STAFF_ID to your staff id (export CITY_STAFF_ID=S-014)"
    )
    assert OwnershipLedger(store).entries() == ()


@pytest.fixture
def proxy_key(tmp_path: Path) -> Path:
    """The key the authenticating proxy signs tokens with, as a secret file."""
    key = tmp_path / "identity.key"
    key.write_bytes(b"proxy-shared-key-0123456789abcdef\n")
    return key


def with_token(
    key: Path, staff_id: str, issued_hours_ago: float = 0, valid_hours: float = 8
) -> dict[str, str]:
    issued = datetime.now(UTC) - timedelta(hours=issued_hours_ago)
    token = issue_token(staff_id, key.read_bytes().strip(), timedelta(hours=valid_hours), issued)
    return {"CITY_IDENTITY_TOKEN": token, "CITY_IDENTITY_KEY_FILE": str(key)}


def test_a_signed_token_names_the_requester_and_the_ledger_says_so(
    env: Path, store: ObjectStore, proxy_key: Path
) -> None:
    arguments = ("handover", RIVER, "--to", "S-014", "--reason", "moves", "--approved-by", "S-003")
    recorded = city(*arguments, env=with_token(proxy_key, "S-022") | {"CITY_STAFF_ID": "S-003"})
    assert recorded.exit_code == 0, recorded.output
    assert "requested by S-022 Kang Tae-yang (CITY_IDENTITY_TOKEN's subject)" in said(recorded)
    (entry,) = OwnershipLedger(store).entries()
    assert (entry.version, entry.requested_by, entry.requested_via) == (2, "S-022", "token")


def test_production_refuses_a_claimed_staff_id_and_a_tampered_or_expired_token(
    env: Path, store: ObjectStore, proxy_key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITY_MODE", "production")
    monkeypatch.setenv("CITY_S3_SECURE", "true")  # production settings: refused before S3 is asked
    claimed = handover()
    assert claimed.exit_code == 2 and "CITY_STAFF_ID is not accepted in production" in said(claimed)
    valid = with_token(proxy_key, "S-025")
    header, claims, signature = valid["CITY_IDENTITY_TOKEN"].split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    forged = base64.urlsafe_b64encode(json.dumps(decoded | {"sub": "S-022"}).encode()).rstrip(b"=").decode()
    tampered = valid | {"CITY_IDENTITY_TOKEN": f"{header}.{forged}.{signature}"}  # S-025 poses as S-022
    expired = with_token(proxy_key, "S-022", issued_hours_ago=9)
    arguments = ("handover", RIVER, "--to", "S-014", "--reason", "moves", "--approved-by", "S-003")
    for identity, message in [(tampered, "the signature does not verify"), (expired, "expired at")]:
        result = city(*arguments, env=identity)
        assert result.exit_code == 2 and message in said(result)
        assert len(errors(result)) == 1


# --- verify against the anchored head -------------------------------------------------------------------


@pytest.fixture
def dagster_home(env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "dagster"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


def anchor(home: Path, store: ObjectStore) -> None:
    """Record the ledger's head the way the scorecards do: as the metadata of a scorecard's
    materialisation (``ledger_metadata``), in the real Dagster instance at ``home``."""
    ledger = OwnershipLedger(store)
    entries = ledger.entries()

    @dg.asset(key=SCORECARDS["disaster_management"])
    def scorecard() -> dg.MaterializeResult:
        return dg.MaterializeResult(metadata=ledger_metadata(ledger, entries))

    with dg.instance_for_test(temp_dir=str(home), set_dagster_home=False) as instance:
        assert dg.materialize([scorecard], instance=instance).success


def two_handovers() -> None:
    assert handover().exit_code == 0
    assert handover(to="S-007", approver="S-043", requester="S-014").exit_code == 0


def errors(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def test_verify_without_an_anchor_says_so_and_still_checks_the_chain(env: Path, tmp_path: Path) -> None:
    assert handover().exit_code == 0
    alone = city("verify")
    assert alone.exit_code == 0 and "1 entries, chain intact" in said(alone)
    assert "warning: no anchored head for s3://governance/" in said(alone)
    assert "(no Dagster instance at" in said(alone)
    home = tmp_path / "empty-dagster"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home), set_dagster_home=False):
        pass
    unanchored = city("verify", "--json", env={"DAGSTER_HOME": str(home)})
    assert unanchored.exit_code == 0
    document = json.loads(unanchored.stdout)
    assert (document["intact"], document["anchor"]) == (True, None)
    assert f"(no scorecard in {home} anchored it)" in document["warning"]


def test_verify_detects_a_deleted_newest_entry(env: Path, dagster_home: Path, store: ObjectStore) -> None:
    two_handovers()
    anchor(dagster_home, store)
    anchored = city("verify")
    assert anchored.exit_code == 0, anchored.output
    assert "continues the head anchored by governance/scorecard/disaster_management (2 entries)" in said(
        anchored
    )
    ledger = OwnershipLedger(store)
    store.delete_prefix(ledger.bucket, ledger.prefix + ledger.entries()[-1].name)
    assert ledger.verify().ok  # on its own, the shorter chain verifies
    result = city("verify")
    assert result.exit_code == 4
    (line,) = errors(result)
    assert line.startswith(f"error: ownership ledger {ledger.uri()} does not continue the head")
    assert line.endswith("it holds 1 entries where 2 were seen: the newest were removed")
    document = json.loads(city("verify", "--json").stdout)
    assert (document["intact"], document["anchor"]["entries"]) == (False, 2)


def test_verify_detects_a_rechained_rewrite(env: Path, dagster_home: Path, store: ObjectStore) -> None:
    two_handovers()
    anchor(dagster_home, store)
    ledger = OwnershipLedger(store)
    seen = ledger.entries()[-1].hash
    store.delete_prefix(ledger.bucket, ledger.prefix)  # then a new chain, hashes and links all valid
    assert handover().exit_code == 0
    assert handover(to="S-018", approver="S-043", requester="S-014").exit_code == 0
    assert (
        ledger.verify().ok and len(ledger.entries()) == 2 and seen not in {e.hash for e in ledger.entries()}
    )
    result = city("verify")
    assert result.exit_code == 4
    (line,) = errors(result)
    assert line.endswith(f"entry 2 is not the one seen (hash {seen[:12]}): the ledger was rewritten")

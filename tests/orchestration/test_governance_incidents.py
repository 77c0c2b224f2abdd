"""Incidents end to end on real components: a blocking check fails in a Dagster run, the sensor opens
an incident in S3 and mails the steward through a local SMTP server (aiosmtpd), escalates to the
deputy and the department head as its clock passes their delays, ``city incidents`` lists and
acknowledges it, and a passing run closes it.

The clock is the sensor evaluation's ``now``: no test waits. The module has an S3 server of its own
(``own_s3``): the sensor lists every open incident, so no other module's may be there.
"""

import email
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as email_policy
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from aiosmtpd.controller import Controller
from typer.testing import CliRunner

from cityapp.cli.main import app
from cityplatform.embedded_s3 import free_port
from cityplatform.objectstore import GOVERNANCE, ObjectStore
from governance.incidents.model import Level
from governance.incidents.service import department_head
from governance.incidents.store import PREFIX, IncidentStore
from governance.registry.registry import load_registry
from orchestration.defs.governance.incidents import evaluate_incidents, incidents_sensor
from orchestration.lib.resources import CityStorage
from tests.governance.registry_files import trained_registry

pytestmark = [pytest.mark.integration, pytest.mark.own_s3]

DATASET = "iot/raw/readings"  # owned by S-007, deputy S-014, in traffic
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Inbox:
    """What the local SMTP server received: (envelope recipients, parsed message)."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email_policy)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        return [to for tos, _ in self.received for to in tos]


class Outcome(dg.Config):
    passes: bool


@dg.asset(
    key=dg.AssetKey.from_user_string(DATASET),
    check_specs=[dg.AssetCheckSpec("contract", asset=dg.AssetKey.from_user_string(DATASET), blocking=True)],
)
def readings(config: Outcome) -> dg.MaterializeResult:
    """A stand-in for the real asset whose blocking check passes or fails as the run says."""
    description = "all rows meet the contract" if config.passes else "12 rows break the contract (value < 0)"
    check = dg.AssetCheckResult(check_name="contract", passed=config.passes, description=description)
    return dg.MaterializeResult(check_results=[check])


DEFINITIONS = dg.Definitions(
    assets=[readings], sensors=[incidents_sensor], resources={"storage": CityStorage()}
)


@pytest.fixture
def incidents_env(
    city_env: Path, store: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A trained registry copy and no incidents left by another test."""
    monkeypatch.setenv("CITY_GOVERNANCE_REGISTRY", str(trained_registry(tmp_path / "registry")))
    monkeypatch.setenv("CITY_INCIDENT_ESCALATE_DEPUTY_AFTER", "PT1H")
    monkeypatch.setenv("CITY_INCIDENT_ESCALATE_HEAD_AFTER", "PT2H")
    store.delete_prefix(GOVERNANCE, PREFIX)
    return city_env


@pytest.fixture
def inbox(incidents_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A real SMTP server on a free port; the platform sends to it."""
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    for name, value in {
        "CITY_INCIDENT_CHANNEL": "smtp",
        "CITY_SMTP_HOST": "127.0.0.1",
        "CITY_SMTP_PORT": str(controller.port),
        "CITY_SMTP_SECURITY": "none",
        "CITY_SMTP_FROM": "data-incidents@city.example.kr",
    }.items():
        monkeypatch.setenv(name, value)
    yield handler
    controller.stop()


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as test_instance:
        yield test_instance


def run_check(instance: dg.DagsterInstance, passes: bool) -> None:
    config = dg.RunConfig(ops={readings.op.name: Outcome(passes=passes)})
    result = dg.materialize([readings], instance=instance, run_config=config, raise_on_error=False)
    assert result.success is passes  # a failed blocking check fails its step


def tick(instance: dg.DagsterInstance, now: datetime) -> str:
    context = dg.build_sensor_context(instance=instance, definitions=DEFINITIONS)
    reason = evaluate_incidents(context, CityStorage(), now)
    return reason.skip_message or ""


def city(*args: str, **env: str) -> Any:
    return CliRunner().invoke(app, ["incidents", *args], env=env)


def test_an_incident_opens_mails_the_owner_escalates_is_acknowledged_and_closes(
    inbox: Inbox, instance: dg.DagsterInstance, store: ObjectStore
) -> None:
    registry = load_registry()
    owners = registry.ownership[DATASET]
    staff = registry.staff
    head = department_head(staff, owners.department)
    assert head is not None

    run_check(instance, passes=False)
    assert tick(instance, T0).startswith("incidents: 1 opened, 0 closed, 1 notices sent")
    (incident,) = IncidentStore(store).open_incidents()
    assert (incident.dataset, incident.check, incident.owner) == (DATASET, "contract", owners.steward)
    assert incident.opened_at == T0 and incident.reason == "12 rows break the contract (value < 0)"
    assert inbox.recipients() == [str(staff[owners.steward].email)]
    message = inbox.received[0][1]
    assert message["Subject"] == f"Incident {incident.id}: contract failed on {DATASET}"
    assert message["From"] == "data-incidents@city.example.kr"
    assert f"city incidents ack {incident.id}" in message.get_content()

    assert tick(instance, T0 + timedelta(minutes=59)).startswith("incidents: 0 opened, 0 closed, 0 notices")
    tick(instance, T0 + timedelta(hours=1))
    tick(instance, T0 + timedelta(hours=2))
    tick(instance, T0 + timedelta(hours=3))  # nothing more to send
    assert inbox.recipients() == [
        str(staff[owners.steward].email),
        str(staff[owners.deputy].email),
        str(head.email),
    ]
    assert [m["X-City-Escalation"] for _, m in inbox.received] == ["owner", "deputy", "head"]

    listed = city("list", "--json")
    assert listed.exit_code == 0, listed.output
    (shown,) = json.loads(listed.stdout)
    assert (shown["id"], shown["state"], shown["level"], shown["owner"]) == (
        incident.id,
        "open",
        Level.HEAD,
        owners.steward,
    )
    assert [n["staff"] for n in shown["notifications"]] == [owners.steward, owners.deputy, head.id]

    outsider = next(
        m.id for m in staff.values() if m.department != owners.department and not m.governance_role
    )
    refused = city("ack", incident.id, CITY_STAFF_ID=outsider)
    assert refused.exit_code == 2 and f"{outsider} may not acknowledge" in refused.stderr
    unknown = city("ack", "inc-20261201-000000", CITY_STAFF_ID=owners.deputy)
    assert unknown.exit_code == 2 and "no incident inc-20261201-000000" in unknown.stderr
    garbled = city("ack", "../open/x", CITY_STAFF_ID=owners.deputy)
    assert garbled.exit_code == 2 and "is not an incident id" in garbled.stderr
    nobody = city("ack", incident.id, CITY_STAFF_ID="")
    assert nobody.exit_code == 2 and "CITY_STAFF_ID" in nobody.stderr
    acked = city("ack", incident.id, "--note", "re-running the feed", "--json", CITY_STAFF_ID=owners.deputy)
    assert acked.exit_code == 0, acked.output
    assert json.loads(acked.stdout)["acknowledged"]["by"] == owners.deputy
    again = city("ack", incident.id, CITY_STAFF_ID=owners.steward)
    assert again.exit_code == 0 and f"already acknowledged by {owners.deputy}" in again.stdout

    run_check(instance, passes=True)
    assert tick(instance, T0 + timedelta(hours=4)).startswith("incidents: 0 opened, 1 closed")
    assert IncidentStore(store).open_incidents() == []
    assert json.loads(city("list", "--json").stdout) == []
    (closed,) = json.loads(city("list", "--all", "--json").stdout)
    assert closed["state"] == "closed" and closed["age_hours"] == 4.0
    assert closed["acknowledged"]["note"] == "re-running the feed"
    refused_closed = city("ack", incident.id, CITY_STAFF_ID=owners.steward)
    assert refused_closed.exit_code == 2 and "closed at" in refused_closed.stderr
    assert len(inbox.received) == 3  # closing tells nobody


def test_a_mail_server_that_does_not_answer_leaves_the_notice_due_on_the_next_pass(
    incidents_env: Path, instance: dg.DagsterInstance, store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITY_INCIDENT_CHANNEL", "smtp")
    monkeypatch.setenv("CITY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CITY_SMTP_PORT", str(free_port()))  # nothing listens there
    monkeypatch.setenv("CITY_SMTP_SECURITY", "none")
    run_check(instance, passes=False)
    assert tick(instance, T0).endswith("1 notices failed (tried again next pass)")
    tick(instance, T0 + timedelta(minutes=1))
    (incident,) = IncidentStore(store).open_incidents()
    (failure,) = incident.notifications  # one failure kept per level, not one per pass
    assert failure.outcome == "failed" and "SMTP 127.0.0.1:" in failure.detail and incident.reached == ()


def test_on_the_laptop_the_sensor_writes_each_notice_to_the_outbox(
    incidents_env: Path, instance: dg.DagsterInstance
) -> None:
    run_check(instance, passes=False)
    context = dg.build_sensor_context(
        instance=instance, definitions=DEFINITIONS, resources={"storage": CityStorage()}
    )
    result = incidents_sensor(context)  # the sensor as the daemon runs it: real clock, file channel
    assert isinstance(result, dg.SkipReason) and "1 opened" in (result.skip_message or "")
    (written,) = (incidents_env / "incidents" / "outbox").glob("*.eml")
    message = email.message_from_bytes(written.read_bytes(), policy=email_policy)
    assert message["X-City-Escalation"] == "owner" and DATASET in message["Subject"]
    listed = city("list")
    assert listed.exit_code == 0 and "Open incidents" in listed.stdout
    down = city("list", CITY_S3_ENDPOINT=f"127.0.0.1:{free_port()}")
    assert down.exit_code == 3 and "does not answer" in down.stderr


def test_a_broken_registry_opens_nothing_and_the_tick_says_why(
    incidents_env: Path,
    instance: dg.DagsterInstance,
    store: ObjectStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without a readable registry nobody can be named owner: the tick names the registry's line
    (the steward_trained checks already fail with it) instead of failing with a traceback."""
    run_check(instance, passes=False)
    broken = trained_registry(tmp_path / "broken")
    training = broken / "training.yaml"
    training.write_text(training.read_text().replace("course:", "coursse:", 1))
    monkeypatch.setenv("CITY_GOVERNANCE_REGISTRY", str(broken))
    reason = tick(instance, T0)
    assert reason.startswith("no incidents opened while the registry is unusable: ")
    assert "training.yaml" in reason
    assert not IncidentStore(store).open_incidents()

"""Incident rules, settings and scorecard counts, without a server: open, escalate, acknowledge, close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cityplatform.settings import InsecureProductionConfig, SettingsError, load_settings
from governance.incidents.channels import FileChannel, SmtpChannel, channel_class
from governance.incidents.config import load_incident_settings
from governance.incidents.model import Acknowledgement, Incident, Level, Notification
from governance.incidents.rules import Contact, Contacts, Delays, Observation, plan
from governance.incidents.service import contacts_for, department_head, may_acknowledge
from governance.registry.departments import load_departments
from governance.registry.registry import Registry, load_registry
from governance.stewardship.scorecard import build_scorecards
from tests.governance.registry_files import city_today, trained_registry

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DELAYS = Delays(deputy=timedelta(hours=4), head=timedelta(hours=24))
OWNER = Contact("S-007", "Lee Joon-ho", "joonho.lee@city.example.kr")
DEPUTY = Contact("S-014", "Choi Hyun-woo", "hyunwoo.choi@city.example.kr")
HEAD = Contact("S-040", "Shin Dong-hyun", "donghyun.shin@city.example.kr")
CONTACTS = {"iot/raw/readings": Contacts("traffic", OWNER, DEPUTY, HEAD)}


def failing(at: datetime = T0, check: str = "steward_trained") -> Observation:
    return Observation("iot/raw/readings", check, True, at, "run-1", "no trained owner")


def passing(at: datetime) -> Observation:
    return Observation("iot/raw/readings", "steward_trained", False, at, "run-2")


def sent(incident: Incident, *levels: Level) -> Incident:
    for level in levels:
        contact = CONTACTS["iot/raw/readings"].at(level)
        assert contact
        notification = Notification(
            level=level, staff=contact.staff, email=contact.email, at=T0, outcome="sent"
        )
        incident = incident.with_notification(notification)
    return incident


def opened() -> Incident:
    (incident,) = plan([], [failing()], CONTACTS, T0, DELAYS).opened
    return incident


def test_a_failed_blocking_check_opens_one_incident_owned_by_the_steward_who_is_told_at_once() -> None:
    decided = plan([], [failing()], CONTACTS, T0, DELAYS)
    (incident,) = decided.opened
    assert (incident.dataset, incident.check, incident.owner, incident.department) == (
        "iot/raw/readings",
        "steward_trained",
        "S-007",
        "traffic",
    )
    assert incident.opened_at == T0 and incident.reason == "no trained owner" and incident.is_open
    assert incident.id.startswith("inc-20261201-")
    assert [(n.level, n.to) for n in decided.notices] == [(Level.OWNER, OWNER)]
    again = plan([sent(incident, Level.OWNER)], [failing()], CONTACTS, T0 + timedelta(minutes=5), DELAYS)
    assert again.opened == [] and again.notices == []  # already open, owner already told


def test_unacknowledged_it_reaches_the_deputy_then_the_head_after_their_delays() -> None:
    incident = sent(opened(), Level.OWNER)

    def due(after: timedelta, current: Incident) -> list[Level]:
        return [n.level for n in plan([current], [failing()], CONTACTS, T0 + after, DELAYS).notices]

    assert due(timedelta(hours=3, minutes=59), incident) == []
    assert due(timedelta(hours=4), incident) == [Level.DEPUTY]
    incident = sent(incident, Level.DEPUTY)
    assert incident.level is Level.DEPUTY
    assert due(timedelta(hours=23), incident) == []
    assert due(timedelta(hours=24), incident) == [Level.HEAD]
    assert due(timedelta(hours=25), sent(incident, Level.HEAD)) == []
    assert due(timedelta(hours=30), sent(opened(), Level.OWNER)) == [Level.DEPUTY, Level.HEAD]  # both late


def test_an_acknowledged_incident_escalates_no_further_but_stays_open() -> None:
    ack = Acknowledgement(incident="x", by="S-007", at=T0 + timedelta(hours=1))
    incident = sent(opened(), Level.OWNER).model_copy(update={"acknowledged": ack})
    decided = plan([incident], [failing()], CONTACTS, T0 + timedelta(days=3), DELAYS)
    assert decided.notices == [] and decided.closed == []


def test_it_closes_when_the_check_passes_or_only_warns_and_stays_open_while_unevaluated() -> None:
    incident = sent(opened(), Level.OWNER)
    later = T0 + timedelta(hours=2)
    (closed,) = plan([incident], [passing(later)], CONTACTS, later, DELAYS).closed
    assert closed.closed_at == later and closed.closed_by_run == "run-2" and not closed.is_open
    assert closed.age(T0 + timedelta(days=9)) == 2.0  # age stops at closing
    assert plan([incident], [], CONTACTS, later, DELAYS).closed == []  # no result: still open
    reopened = plan([], [failing(later + timedelta(hours=1))], CONTACTS, later + timedelta(hours=1), DELAYS)
    assert reopened.opened[0].id != incident.id  # a later failure is a new incident


def test_a_failed_notice_is_due_again_and_kept_once_per_level() -> None:
    incident = opened()
    for minute in range(3):
        failure = Notification(
            level=Level.OWNER,
            staff="S-007",
            email=OWNER.email,
            at=T0 + timedelta(minutes=minute),
            outcome="failed",
            detail="SMTP down",
        )
        incident = incident.with_notification(failure)
    assert len(incident.notifications) == 1 and incident.reached == ()
    assert [n.level for n in plan([incident], [failing()], CONTACTS, T0, DELAYS).notices] == [Level.OWNER]


def test_nobody_on_record_is_a_notice_to_nobody_not_a_silent_skip() -> None:
    lone = {"iot/raw/readings": Contacts("traffic", OWNER, None, None)}
    incident = sent(opened(), Level.OWNER)
    notices = plan([incident], [failing()], lone, T0 + timedelta(days=2), DELAYS).notices
    assert [(n.level, n.to) for n in notices] == [(Level.DEPUTY, None), (Level.HEAD, None)]
    (unowned,) = plan([], [failing()], {}, T0, DELAYS).opened
    assert unowned.owner is None and unowned.department is None


def test_escalation_delays_must_grow() -> None:
    with pytest.raises(ValueError, match="must grow"):
        Delays(deputy=timedelta(hours=5), head=timedelta(hours=1))


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return load_registry(trained_registry(tmp_path / "registry"))


def test_contacts_are_the_current_owners_and_the_department_head(registry: Registry) -> None:
    contacts = contacts_for(registry.ownership, registry.staff)["iot/raw/readings"]
    owner = registry.ownership["iot/raw/readings"]
    head = department_head(registry.staff, owner.department)
    assert head is not None and head.governance_role == "department_head"
    assert contacts.owner and contacts.owner.staff == owner.steward
    assert contacts.deputy and contacts.deputy.staff == owner.deputy
    assert contacts.head and contacts.head.staff == head.id and contacts.department == owner.department


def test_who_may_acknowledge(registry: Registry) -> None:
    contacts = contacts_for(registry.ownership, registry.staff)["iot/raw/readings"]
    incident = opened()
    officer = next(m for m in registry.staff.values() if m.governance_role == "governance_officer")
    answerable = [c.staff for c in (contacts.owner, contacts.deputy, contacts.head) if c]
    assert len(answerable) == 3
    for staff_id in (*answerable, officer.id):
        assert may_acknowledge(registry.staff[staff_id], incident, contacts), staff_id
    outsider = next(
        m
        for m in registry.staff.values()
        if m.department != "traffic" and m.governance_role is None and m.id != incident.owner
    )
    assert not may_acknowledge(outsider, incident, contacts)
    assert not may_acknowledge(None, incident, contacts)


def test_the_scorecard_counts_open_incidents_and_their_age_per_department(registry: Registry) -> None:
    now = T0 + timedelta(hours=30)
    acked = sent(opened(), Level.OWNER).model_copy(
        update={"acknowledged": Acknowledgement(incident="x", by="S-007", at=T0)}
    )
    fresh = plan([], [failing(check="contract")], CONTACTS, T0 + timedelta(hours=20), DELAYS).opened[0]
    ages = [acked.age_at(now), fresh.age_at(now)]
    cards = {
        card.department: card
        for card in build_scorecards(
            registry, load_departments(), registry.ownership, city_today(), {}, {}, ages
        )
    }
    traffic = cards["traffic"].summary()
    assert traffic["open_incidents"] == 2 and traffic["open_incidents_unacknowledged"] == 1
    assert traffic["oldest_open_incident_hours"] == 30.0
    assert cards["environment"].summary()["open_incidents"] == 0
    assert cards["environment"].summary()["oldest_open_incident_hours"] is None
    assert [i["check"] for i in cards["traffic"].to_json()["incidents"]] == ["steward_trained", "contract"]


def test_settings_refuse_a_password_in_the_environment_and_laptop_delivery_in_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dev = load_settings(mode="dev")
    assert load_incident_settings(dev).delays == DELAYS  # 4 h, then 24 h
    monkeypatch.setenv("CITY_SMTP_PASSWORD", "hunter2")
    with pytest.raises(SettingsError, match="CITY_SMTP_PASSWORD_FILE"):
        load_incident_settings(dev)
    monkeypatch.delenv("CITY_SMTP_PASSWORD")
    monkeypatch.setenv("CITY_SMTP_USERNAME", "city")
    with pytest.raises(SettingsError, match="without CITY_SMTP_PASSWORD_FILE"):
        load_incident_settings(dev)
    monkeypatch.delenv("CITY_SMTP_USERNAME")
    monkeypatch.setenv("CITY_INCIDENT_ESCALATE_DEPUTY_AFTER", "PT30H")
    with pytest.raises(SettingsError, match="must not be shorter"):
        load_incident_settings(dev)
    monkeypatch.setenv("CITY_INCIDENT_ESCALATE_DEPUTY_AFTER", "soon")
    with pytest.raises(SettingsError, match=r"^CITY_INCIDENT_ESCALATE_DEPUTY_AFTER: "):
        load_incident_settings(dev)
    monkeypatch.setenv("CITY_INCIDENT_ESCALATE_DEPUTY_AFTER", "PT1H")

    production = dev.model_copy(update={"mode": "production"})
    with pytest.raises(InsecureProductionConfig, match="CITY_INCIDENT_CHANNEL=smtp"):
        load_incident_settings(production)
    monkeypatch.setenv("CITY_INCIDENT_CHANNEL", "smtp")
    monkeypatch.setenv("CITY_SMTP_SECURITY", "none")
    with pytest.raises(InsecureProductionConfig, match="without TLS"):
        load_incident_settings(production)
    monkeypatch.setenv("CITY_SMTP_SECURITY", "starttls")
    with pytest.raises(InsecureProductionConfig, match="CITY_SMTP_FROM"):
        load_incident_settings(production)
    monkeypatch.setenv("CITY_SMTP_FROM", "data-incidents@city.example.kr")
    secret = tmp_path / "smtp-password"
    secret.write_text("from-a-secret-file\n")
    monkeypatch.setenv("CITY_SMTP_USERNAME", "city")
    monkeypatch.setenv("CITY_SMTP_PASSWORD_FILE", str(secret))
    accepted = load_incident_settings(production)
    password = accepted.smtp_password()
    assert password is not None and password.get_secret_value() == "from-a-secret-file"
    assert accepted.delays.deputy == timedelta(hours=1)


def test_a_channel_is_a_kind_or_the_dotted_path_of_a_channel_class() -> None:
    assert channel_class("file") is FileChannel and channel_class("smtp") is SmtpChannel
    assert channel_class("governance.incidents.channels.SmtpChannel") is SmtpChannel
    for wrong in ("pigeon", "governance.incidents.model.Incident", "no.such.module.Channel"):
        with pytest.raises(SettingsError, match="CITY_INCIDENT_CHANNEL"):
            channel_class(wrong)

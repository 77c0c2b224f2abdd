"""One pass over the incidents: decide (``rules``), record (``store``), tell people (``channels``).

The Dagster sensor supplies the latest check results and the current owners; ``city incidents``
uses the same contacts to say who may acknowledge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from governance.incidents.channels import Channel, NotificationFailed, compose
from governance.incidents.model import Incident, Level, Notification
from governance.incidents.rules import Contact, Contacts, Delays, Notice, Observation, plan
from governance.incidents.store import IncidentStore
from governance.registry.ownership import Ownership, StaffMember


def department_head(staff: Mapping[str, StaffMember], department: str) -> StaffMember | None:
    """The department's active head (``staff.yaml`` ``governance_role: department_head``; the
    registry allows one at a time)."""
    heads = (m for m in staff.values() if m.governance_role == "department_head" and m.active)
    return next((m for m in heads if m.department == department), None)


def _contact(member: StaffMember | None) -> Contact | None:
    return Contact(member.id, member.name, str(member.email), member.active) if member else None


def contacts_for(ownership: Mapping[str, Ownership], staff: Mapping[str, StaffMember]) -> dict[str, Contacts]:
    """Per dataset: its current steward, deputy and department head."""
    return {
        dataset: Contacts(
            department=owner.department,
            owner=_contact(staff.get(owner.steward)),
            deputy=_contact(staff.get(owner.deputy)),
            head=_contact(department_head(staff, owner.department)),
        )
        for dataset, owner in ownership.items()
    }


def may_acknowledge(member: StaffMember | None, incident: Incident, contacts: Contacts | None) -> bool:
    """The incident's owner, the dataset's current steward, deputy or department head, or a
    governance officer (city-wide) may take it on."""
    if member is None:
        return False
    if member.governance_role == "governance_officer" or member.id == incident.owner:
        return True
    answerable = (contacts.owner, contacts.deputy, contacts.head) if contacts else ()
    return member.id in {contact.staff for contact in answerable if contact}


@dataclass
class PassResult:
    opened: list[Incident] = field(default_factory=list)
    closed: list[Incident] = field(default_factory=list)
    notified: list[tuple[str, Notification]] = field(default_factory=list)  # (incident id, what happened)

    def summary(self) -> str:
        sent = [n for _, n in self.notified if n.outcome == "sent"]
        escalated = sum(n.level is not Level.OWNER for n in sent)
        failed = sum(n.outcome == "failed" for _, n in self.notified)
        line = (
            f"incidents: {len(self.opened)} opened, {len(self.closed)} closed, {len(sent)} notices sent "
            f"({escalated} escalations)"
        )
        return line + (f", {failed} notices failed (tried again next pass)" if failed else "")


def deliver(notice: Notice, channel: Channel, sender: str, now: datetime) -> Notification:
    """Send ``notice`` and say what happened; a failure is recorded, never raised."""
    to = notice.to
    if to is None:
        return Notification(
            level=notice.level,
            staff=None,
            email=None,
            at=now,
            outcome="nobody",
            detail=f"no {notice.level} on record",
        )
    record = {"level": notice.level, "staff": to.staff, "email": to.email, "at": now}
    if not to.active:
        return Notification(**record, outcome="nobody", detail=f"{to.staff} is no longer active")
    try:
        channel.send(compose(notice, to, sender, now))
    except NotificationFailed as exc:
        return Notification(**record, outcome="failed", detail=str(exc))
    return Notification(**record, outcome="sent", detail=channel.kind)


def run_pass(
    store: IncidentStore,
    channel: Channel,
    sender: str,
    observations: Sequence[Observation],
    contacts: Mapping[str, Contacts],
    now: datetime,
    delays: Delays,
) -> PassResult:
    """Open, close and notify on the latest check results. A new incident is stored before anyone
    is told, so a crash while sending leaves it open and its notices due on the next pass."""
    decided = plan(store.open_incidents(), observations, contacts, now, delays)
    for incident in decided.closed:
        store.close(incident)
    for incident in decided.opened:
        store.save(incident)
    result = PassResult(opened=decided.opened, closed=decided.closed)
    changed: dict[str, Incident] = {}
    for notice in decided.notices:
        notification = deliver(notice, channel, sender, now)
        current = changed.get(notice.incident.id, notice.incident)
        changed[notice.incident.id] = current.with_notification(notification)
        result.notified.append((notice.incident.id, notification))
    for incident in changed.values():
        store.save(incident)
    return result

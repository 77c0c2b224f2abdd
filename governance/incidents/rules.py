"""Pure incident rules: which incidents open or close on the latest check results, and who is due
a notice by now. No storage, no clock, no network: the caller passes all of them in.

- A blocking check whose latest evaluation failed (at ERROR severity) opens an incident, unless
  one is already open for that dataset and check.
- An open incident closes when its check's latest evaluation no longer fails: it passed, or it
  only warns (a warning blocks nothing). A check with no evaluation keeps its incident open.
- The owner (the steward) is due a notice at once; the deputy once ``delays.deputy`` has passed
  since the incident opened, the department head once ``delays.head`` has, unless someone
  acknowledged it before. A notice that failed is due again on the next pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from governance.incidents.model import ESCALATION, Incident, Level, incident_id


@dataclass(frozen=True)
class Observation:
    """The latest evaluation of one blocking check."""

    dataset: str
    check: str
    failed: bool  # failed at ERROR severity; a pass or a warning is not a failure
    at: datetime
    run_id: str
    reason: str = ""


@dataclass(frozen=True)
class Contact:
    staff: str
    name: str
    email: str
    active: bool = True


@dataclass(frozen=True)
class Contacts:
    """Who answers for a dataset now, per escalation level (None: nobody on record)."""

    department: str | None
    owner: Contact | None = None
    deputy: Contact | None = None
    head: Contact | None = None

    def at(self, level: Level) -> Contact | None:
        return {Level.OWNER: self.owner, Level.DEPUTY: self.deputy, Level.HEAD: self.head}[level]


NO_CONTACTS = Contacts(department=None)


@dataclass(frozen=True)
class Delays:
    """Time from opening after which an unacknowledged incident reaches the next level."""

    deputy: timedelta
    head: timedelta

    def __post_init__(self) -> None:
        if not timedelta(0) <= self.deputy <= self.head:
            raise ValueError(f"escalation delays must grow: deputy {self.deputy}, then head {self.head}")

    def due(self, incident: Incident, now: datetime) -> tuple[Level, ...]:
        """Levels the incident should have reached by ``now``."""
        if incident.acknowledged is not None:  # someone has it in hand: nobody else is told
            return ()
        waited = now - incident.opened_at
        after = {Level.OWNER: timedelta(0), Level.DEPUTY: self.deputy, Level.HEAD: self.head}
        return tuple(level for level in ESCALATION if waited >= after[level])


@dataclass(frozen=True)
class Notice:
    incident: Incident
    level: Level
    to: Contact | None  # None or inactive: recorded as "nobody", not sent


@dataclass(frozen=True)
class Plan:
    opened: list[Incident] = field(default_factory=list)
    closed: list[Incident] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


def plan(
    open_incidents: Iterable[Incident],
    observations: Sequence[Observation],
    contacts: Mapping[str, Contacts],
    now: datetime,
    delays: Delays,
) -> Plan:
    """What to open, close and send on this pass. ``contacts``: per dataset (a dataset missing
    from it has nobody to tell)."""
    latest = {(o.dataset, o.check): o for o in observations}
    result = Plan()
    still_open: list[Incident] = []
    for incident in open_incidents:
        observed = latest.get((incident.dataset, incident.check))
        if observed is not None and not observed.failed:
            result.closed.append(
                incident.model_copy(update={"closed_at": now, "closed_by_run": observed.run_id})
            )
        else:
            still_open.append(incident)
    known = {(i.dataset, i.check) for i in still_open}
    for observed in observations:
        if observed.failed and (observed.dataset, observed.check) not in known:
            who = contacts.get(observed.dataset, NO_CONTACTS)
            incident = Incident(
                id=incident_id(observed.dataset, observed.check, now),
                dataset=observed.dataset,
                check=observed.check,
                department=who.department,
                owner=who.owner.staff if who.owner else None,
                opened_at=now,
                failed_at=observed.at,
                failed_run=observed.run_id,
                reason=observed.reason,
            )
            result.opened.append(incident)
            still_open.append(incident)
    for incident in still_open:
        who = contacts.get(incident.dataset, NO_CONTACTS)
        for level in delays.due(incident, now):
            if level not in incident.reached:
                result.notices.append(Notice(incident, level, who.at(level)))
    return result

"""The incident record: one failed blocking check of one dataset, from opening to closing.

Stored as JSON (pydantic), so the sensor, ``city incidents`` and the scorecard read one shape.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Level(StrEnum):
    """Who an incident has reached, in escalation order."""

    OWNER = "owner"
    DEPUTY = "deputy"
    HEAD = "head"


ESCALATION = (Level.OWNER, Level.DEPUTY, Level.HEAD)


class Notification(BaseModel):
    """One attempt to tell someone. ``nobody``: there was no one to tell at that level (no deputy
    or head on record, or they are no longer active); it counts as done, so it is not retried."""

    model_config = ConfigDict(frozen=True)

    level: Level
    staff: str | None
    email: str | None
    at: datetime
    outcome: Literal["sent", "failed", "nobody"]
    detail: str = ""

    @property
    def done(self) -> bool:
        return self.outcome != "failed"


class Acknowledgement(BaseModel):
    """Someone took the incident on: escalation stops; it stays open until the check passes."""

    model_config = ConfigDict(frozen=True)

    incident: str
    by: str
    at: datetime
    note: str = ""


class Incident(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    dataset: str
    check: str
    department: str | None
    owner: str | None  # the current steward when it opened; None when the dataset has no owner
    opened_at: datetime
    failed_at: datetime  # when the failing evaluation was recorded
    failed_run: str  # the run that recorded it ("" for an evaluation reported outside a run)
    reason: str
    notifications: tuple[Notification, ...] = ()
    closed_at: datetime | None = None
    closed_by_run: str | None = None
    acknowledged: Acknowledgement | None = None  # read from its own object, never stored here

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def reached(self) -> tuple[Level, ...]:
        """Levels whose notice is done (sent, or nobody to send it to), in escalation order."""
        done = {n.level for n in self.notifications if n.done}
        return tuple(level for level in ESCALATION if level in done)

    @property
    def level(self) -> Level | None:
        """The highest level reached."""
        return self.reached[-1] if self.reached else None

    def age(self, now: datetime) -> float:
        """Hours open at ``now`` (or until it closed)."""
        return ((self.closed_at or now) - self.opened_at).total_seconds() / 3600

    def with_notification(self, notification: Notification) -> Incident:
        """This record with ``notification`` added; an earlier failure at the same level is replaced,
        so an SMTP outage leaves one failure per level, not one per sensor tick."""
        kept = tuple(n for n in self.notifications if n.done or n.level != notification.level)
        return self.model_copy(update={"notifications": (*kept, notification)})

    def age_at(self, now: datetime) -> IncidentAge:
        return IncidentAge(
            self.id,
            self.dataset,
            self.check,
            self.owner,
            round(self.age(now), 2),
            self.acknowledged is not None,
        )


@dataclass(frozen=True)
class IncidentAge:
    """What a scorecard shows of an open incident."""

    id: str
    dataset: str
    check: str
    owner: str | None
    age_hours: float
    acknowledged: bool


INCIDENT_ID = re.compile(r"inc-\d{8}-[0-9a-f]{6}")


def incident_id(dataset: str, check: str, opened_at: datetime) -> str:
    """``inc-<opened day>-<6 hex>``: short enough to type after ``city incidents ack``, and the same
    inputs always give the same id."""
    digest = hashlib.sha256(f"{dataset}|{check}|{opened_at.isoformat()}".encode()).hexdigest()
    return f"inc-{opened_at:%Y%m%d}-{digest[:6]}"

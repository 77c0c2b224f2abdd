"""Stewardship status of a dataset on a day: pass, warn or fail. Pure, so the check, the CLI and the
scorecard all judge the same way.

- fail: an owner is no longer active (or not on the staff list), or no owner has current training
  for the dataset's classification. Datasets must not be published without a trained, present owner.
- warn: an owner's required training expires within 30 days.
- pass: otherwise. Steward and deputy both count as owners, so one lapsed owner beside a trained
  one still passes; the scorecard reports such datasets as resting on one trained person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

from governance.registry.ownership import Classification, Ownership
from governance.registry.registry import Registry
from governance.stewardship.training import Qualification, qualification

Role = Literal["steward", "deputy"]


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class OwnerAssessment:
    staff_id: str
    role: Role
    name: str | None  # None: not on the staff list
    active: bool
    qualification: Qualification

    @property
    def trained(self) -> bool:
        return self.active and self.qualification.trained

    def describe(self) -> str:
        who = f"{self.role} {self.staff_id} {self.name or '(not on the staff list)'}"
        if not self.active:
            return f"{who}: no longer active"
        if not self.qualification.trained:
            lapsed = ", ".join(
                f"{c.course} {c.state}" + (f" {c.expires_on}" if c.expires_on else "")
                for c in self.qualification.lapsed
            )
            return f"{who}: not trained for {self.qualification.classification} ({lapsed})"
        return f"{who}: trained for {self.qualification.classification} until {self.qualification.expires_on}"


@dataclass(frozen=True)
class DatasetAssessment:
    dataset: str
    classification: Classification
    on: date
    required: tuple[str, ...]
    owners: tuple[OwnerAssessment, ...]
    status: Status
    reasons: tuple[str, ...]

    @property
    def trained_owners(self) -> tuple[str, ...]:
        return tuple(owner.staff_id for owner in self.owners if owner.trained)


def assess_owner(
    registry: Registry, staff_id: str, role: Role, classification: Classification, on: date
) -> OwnerAssessment:
    member = registry.staff.get(staff_id)
    return OwnerAssessment(
        staff_id=staff_id,
        role=role,
        name=member.name if member else None,
        active=bool(member and member.active),
        qualification=qualification(registry, staff_id, classification, on),
    )


def assess_dataset(registry: Registry, dataset: str, ownership: Ownership, on: date) -> DatasetAssessment:
    level = ownership.classification
    owners = (
        assess_owner(registry, ownership.steward, "steward", level, on),
        assess_owner(registry, ownership.deputy, "deputy", level, on),
    )
    absent = [owner for owner in owners if not owner.active]
    trained = [owner for owner in owners if owner.trained]
    expiring = [owner for owner in trained if owner.qualification.expiring]
    reasons: list[str] = [f"{owner.describe()}: hand the dataset over" for owner in absent]
    if not trained:
        needed = ", ".join(registry.required_courses(level))
        reasons.append(f"no owner has current training for {level} ({needed})")
    if absent or not trained:
        status = Status.FAIL
    elif expiring:
        status = Status.WARN
        reasons.extend(f"{owner.describe()}: renew before it lapses" for owner in expiring)
    else:
        status = Status.PASS
    return DatasetAssessment(
        dataset=dataset,
        classification=level,
        on=on,
        required=registry.required_courses(level),
        owners=owners,
        status=status,
        reasons=tuple(reasons),
    )

"""What one member of staff owns and how they stand: the data behind ``city stewards me``. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum
from typing import Any

from governance.registry.ownership import Ownership
from governance.registry.registry import Registry
from governance.registry.training import LEVELS
from governance.stewardship.rules import Status, assess_dataset
from governance.stewardship.training import CourseState, course_status, qualification


class Attention(IntEnum):
    """Exit codes of ``city stewards me``: what the steward must do, most urgent wins."""

    NOTHING = 0
    NOW = 4  # a dataset fails steward_trained, your training for it lapsed, or its last check failed
    SOON = 5  # a training you need expires within 30 days, or a dataset warns

    @property
    def urgency(self) -> int:
        return {Attention.NOTHING: 0, Attention.SOON: 1, Attention.NOW: 2}[self]


@dataclass(frozen=True)
class DatasetFacts:
    """What Dagster knows about a dataset; empty when no instance or definitions are at hand."""

    checks: Mapping[str, tuple[str, datetime]] = field(default_factory=dict)  # check -> (outcome, when)
    last_materialized: datetime | None = None
    downstream: tuple[str, ...] = ()


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _dataset(
    registry: Registry, dataset: str, owner: Ownership, staff_id: str, on: date, known: DatasetFacts
) -> tuple[dict[str, Any], Attention]:
    assessment = assess_dataset(registry, dataset, owner, on)
    mine = qualification(registry, staff_id, owner.classification, on)
    checks = {
        name: {"outcome": outcome, "at": at.isoformat()} for name, (outcome, at) in known.checks.items()
    }
    check_failed = any(check["outcome"] == "failed" for check in checks.values())
    if assessment.status is Status.FAIL or not mine.trained or check_failed:
        attention = Attention.NOW
    elif assessment.status is Status.WARN or mine.expiring:
        attention = Attention.SOON
    else:
        attention = Attention.NOTHING
    entry = {
        "dataset": dataset,
        "role": "steward" if owner.steward == staff_id else "deputy",
        "classification": owner.classification,
        "department": owner.department,
        "other_owner": owner.deputy if owner.steward == staff_id else owner.steward,
        "steward_trained_now": str(assessment.status),
        "reasons": list(assessment.reasons),
        "you_are_trained_for_it": mine.trained,
        "checks": checks,
        "last_materialized": known.last_materialized.isoformat() if known.last_materialized else None,
        "downstream": list(known.downstream),
    }
    return entry, attention


def _training(registry: Registry, staff_id: str, on: date) -> list[dict[str, Any]]:
    rows = []
    for course in registry.courses.values():
        status = course_status(registry, staff_id, course.id, on)
        rows.append(
            {
                "course": course.id,
                "name": course.name,
                "state": str(status.state),
                "completed_on": _iso(status.completed_on),
                "expires_on": _iso(status.expires_on),
            }
        )
    return rows


def steward_profile(
    registry: Registry,
    ownership: Mapping[str, Ownership],
    staff_id: str,
    on: date,
    facts: Mapping[str, DatasetFacts],
) -> tuple[dict[str, Any], Attention]:
    """The profile as JSON-ready data, and how urgently the person must act."""
    owned = [
        _dataset(registry, dataset, owner, staff_id, on, facts.get(dataset, DatasetFacts()))
        for dataset, owner in sorted(ownership.items())
        if staff_id in owner.owners
    ]
    training = _training(registry, staff_id, on)
    expiring = any(row["state"] == CourseState.EXPIRING for row in training)
    candidates = [Attention.SOON if expiring else Attention.NOTHING, *(a for _, a in owned)]
    attention = max(candidates, key=lambda candidate: candidate.urgency)
    qualified = {}
    for level in LEVELS:
        standing = qualification(registry, staff_id, level, on)
        qualified[level] = {"trained": standing.trained, "until": _iso(standing.expires_on)}
    profile = {
        "staff": registry.staff[staff_id].model_dump(mode="json"),
        "evaluated_on": on.isoformat(),
        "datasets": [entry for entry, _ in owned],
        "training": training,
        "qualified_for": qualified,
        "attention": attention.name.lower(),
    }
    return profile, attention

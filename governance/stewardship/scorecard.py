"""Governance scorecard per department: are its datasets owned by trained people, and for how long?

Pure: the Dagster asset supplies the latest check results, grant renewals and open incidents it
read elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from governance.incidents.model import IncidentAge
from governance.registry.departments import Department
from governance.registry.ownership import Ownership
from governance.registry.registry import Registry
from governance.stewardship.rules import Status, assess_dataset
from governance.stewardship.training import CourseState


@dataclass(frozen=True)
class DatasetRow:
    dataset: str
    department: str
    classification: str
    steward: str
    deputy: str
    status: str  # steward_trained on the scorecard's day: pass | warn | fail
    trained_owners: tuple[str, ...]
    reasons: str
    failed_checks: tuple[str, ...]  # checks whose latest recorded evaluation failed (any check)


@dataclass(frozen=True)
class ExpiringTraining:
    staff: str
    name: str
    course: str
    expires_on: date
    datasets: tuple[str, ...]  # what lapses with it


@dataclass(frozen=True)
class DepartmentScorecard:
    department: str
    name: str
    evaluated_on: date
    datasets: tuple[DatasetRow, ...]
    expiring: tuple[ExpiringTraining, ...]
    grants_due_for_renewal: int
    incidents: tuple[IncidentAge, ...] = ()  # open incidents on its datasets, oldest first

    @property
    def owner_and_deputy_trained(self) -> int:
        return sum(len(row.trained_owners) == 2 for row in self.datasets)

    @property
    def share_owner_and_deputy_trained(self) -> float | None:
        return self.owner_and_deputy_trained / len(self.datasets) if self.datasets else None

    @property
    def single_trained(self) -> tuple[str, ...]:
        """Datasets that rest on one trained person: if they leave, the dataset fails its check."""
        return tuple(row.dataset for row in self.datasets if len(row.trained_owners) == 1)

    @property
    def failed_checks_open(self) -> tuple[str, ...]:
        return tuple(f"{row.dataset}:{check}" for row in self.datasets for check in row.failed_checks)

    def count(self, status: Status) -> int:
        return sum(row.status == status for row in self.datasets)

    def summary(self) -> dict[str, Any]:
        share = self.share_owner_and_deputy_trained
        return {
            "department": self.department,
            "evaluated_on": self.evaluated_on.isoformat(),
            "datasets": len(self.datasets),
            "owner_and_deputy_trained": self.owner_and_deputy_trained,
            "share_owner_and_deputy_trained": None if share is None else round(share, 4),
            "trainings_expiring_30d": len(self.expiring),
            "single_trained_datasets": len(self.single_trained),
            "failed_checks_open": len(self.failed_checks_open),
            "grants_due_for_renewal": self.grants_due_for_renewal,
            "open_incidents": len(self.incidents),
            "open_incidents_unacknowledged": sum(not i.acknowledged for i in self.incidents),
            "oldest_open_incident_hours": max((i.age_hours for i in self.incidents), default=None),
            **{f"steward_trained_{status}": self.count(status) for status in Status},
        }

    def to_json(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "name": self.name,
            "single_trained": list(self.single_trained),
            "failed_checks": list(self.failed_checks_open),
            "incidents": [asdict(incident) for incident in self.incidents],
            "expiring": [asdict(e) | {"expires_on": e.expires_on.isoformat()} for e in self.expiring],
            "rows": [asdict(row) for row in self.datasets],
        }


def _expiring(
    registry: Registry, rows: Sequence[tuple[DatasetRow, Ownership]], on: date
) -> tuple[ExpiringTraining, ...]:
    found: dict[tuple[str, str], tuple[date, list[str]]] = {}
    for row, ownership in rows:
        assessment = assess_dataset(registry, row.dataset, ownership, on)
        for owner in assessment.owners:
            for course in owner.qualification.courses:
                if course.state is CourseState.EXPIRING and course.expires_on:
                    _, datasets = found.setdefault((owner.staff_id, course.course), (course.expires_on, []))
                    datasets.append(row.dataset)
    return tuple(
        ExpiringTraining(staff, registry.staff[staff].name, course, expires, tuple(datasets))
        for (staff, course), (expires, datasets) in sorted(found.items(), key=lambda item: item[1][0])
    )


def build_scorecards(
    registry: Registry,
    departments: Sequence[Department],
    ownership: Mapping[str, Ownership],
    on: date,
    failed_checks: Mapping[str, Sequence[str]],
    grants_due: Mapping[str, int],
    incidents: Sequence[IncidentAge] = (),
) -> list[DepartmentScorecard]:
    """One scorecard per department; ``failed_checks`` maps a dataset to its open failed checks;
    an open incident counts on the department that owns its dataset."""
    cards = []
    for department in departments:
        rows: list[tuple[DatasetRow, Ownership]] = []
        for dataset, owner in sorted(ownership.items()):
            if owner.department != department.id:
                continue
            assessment = assess_dataset(registry, dataset, owner, on)
            row = DatasetRow(
                dataset=dataset,
                department=department.id,
                classification=owner.classification,
                steward=owner.steward,
                deputy=owner.deputy,
                status=str(assessment.status),
                trained_owners=assessment.trained_owners,
                reasons="; ".join(assessment.reasons),
                failed_checks=tuple(failed_checks.get(dataset, ())),
            )
            rows.append((row, owner))
        owned = {row.dataset for row, _ in rows}
        cards.append(
            DepartmentScorecard(
                department=department.id,
                name=department.name,
                evaluated_on=on,
                datasets=tuple(row for row, _ in rows),
                expiring=_expiring(registry, rows, on),
                grants_due_for_renewal=grants_due.get(department.id, 0),
                incidents=tuple(i for i in incidents if i.dataset in owned),
            )
        )
    return cards

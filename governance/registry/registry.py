"""The whole governance registry, loaded and cross-checked together from one folder."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from governance.registry.grants import Grant, load_grants
from governance.registry.location import registry_dir
from governance.registry.ownership import Classification, Ownership, StaffMember, load_ownership, load_staff
from governance.registry.training import (
    ClassificationLevel,
    Course,
    TrainingRecord,
    load_courses,
    load_levels,
    load_training,
)


@dataclass(frozen=True)
class Registry:
    directory: Path
    staff: Mapping[str, StaffMember]
    courses: Mapping[str, Course]
    levels: Mapping[Classification, ClassificationLevel]
    training: tuple[TrainingRecord, ...]
    ownership: Mapping[str, Ownership]  # the baseline, before the ownership ledger
    grants: tuple[Grant, ...]

    def required_courses(self, classification: Classification) -> tuple[str, ...]:
        return tuple(self.levels[classification].requires)

    def records_of(self, staff_id: str) -> tuple[TrainingRecord, ...]:
        return tuple(record for record in self.training if record.staff == staff_id)

    def approvers(self, department: str) -> tuple[StaffMember, ...]:
        """Who the registry lets approve handovers of ``department``'s datasets: its head first,
        then the governance officers (``staff.yaml`` ``governance_role``)."""
        allowed = [member for member in self.staff.values() if member.approves_for(department)]
        return tuple(sorted(allowed, key=lambda member: member.governance_role != "department_head"))


def load_registry(directory: Path | None = None) -> Registry:
    """Every registry file in ``directory`` (default: ``CITY_GOVERNANCE_REGISTRY`` or the package)."""
    return _load_registry((directory or registry_dir()).resolve())


@cache
def _load_registry(directory: Path) -> Registry:
    staff = load_staff(directory / "staff.yaml")
    courses = load_courses(directory / "courses.yaml")
    return Registry(
        directory=directory,
        staff=staff,
        courses=courses,
        levels=load_levels(directory / "classifications.yaml", courses),
        training=load_training(directory / "training.yaml", courses, staff),
        ownership=load_ownership(directory / "ownership.yaml"),
        grants=load_grants(directory / "grants.yaml", staff),
    )

"""The whole governance registry, loaded and cross-checked together from one folder."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from functools import cache
from pathlib import Path

from cityplatform.yamlfiles import RegistryError
from governance.registry.departments import REGISTRY_FILE as DEPARTMENTS_FILE
from governance.registry.grants import Grant, load_grants
from governance.registry.location import REGISTRY_DIR, registry_dir
from governance.registry.ownership import Classification, Ownership, StaffMember, load_ownership, load_staff
from governance.registry.training import (
    ClassificationLevel,
    Course,
    TrainingRecord,
    load_courses,
    load_levels,
    load_training,
)

REGISTRY_FILES = (
    "staff.yaml",
    "courses.yaml",
    "classifications.yaml",
    "training.yaml",
    "ownership.yaml",
    "grants.yaml",
)
"""What a registry folder holds; anything else there (bar hidden files) is refused, not ignored."""


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


def check_folder(directory: Path) -> None:
    """RegistryError for a folder that is not a registry, or holds a file the registry does not read:
    a ``staff.yml`` or a ``grants.yaml.orig`` would otherwise be edited in vain, silently ignored."""
    try:
        names = sorted(entry.name for entry in directory.iterdir() if not entry.name.startswith("."))
    except OSError as exc:
        raise RegistryError(f"{directory}: cannot read the registry folder: {exc.strerror}") from exc
    if not set(names) & set(REGISTRY_FILES):
        raise RegistryError(
            f"{directory}: no registry file here (CITY_GOVERNANCE_REGISTRY names the folder of "
            f"{', '.join(REGISTRY_FILES)})"
        )
    package = directory == REGISTRY_DIR.resolve()
    for name in names:
        if name in REGISTRY_FILES or (package and (name.endswith(".py") or name == "__pycache__")):
            continue
        if name == DEPARTMENTS_FILE.name:
            if package:
                continue
            raise RegistryError(
                f"{directory / name}: misplaced: departments are read from {DEPARTMENTS_FILE} only "
                "(their buckets and keys follow it); remove this copy"
            )
        close = get_close_matches(name, REGISTRY_FILES, n=1)
        hint = f"; did you mean {close[0]}?" if close else f" (it holds {', '.join(REGISTRY_FILES)})"
        raise RegistryError(f"{directory / name}: not a file of the registry{hint}")


@cache
def _load_registry(directory: Path) -> Registry:
    check_folder(directory)
    staff = load_staff(directory / "staff.yaml")
    courses = load_courses(directory / "courses.yaml")
    levels = load_levels(directory / "classifications.yaml", courses)
    ownership = load_ownership(directory / "ownership.yaml")
    _within_retention_limits(directory / "ownership.yaml", ownership, levels)
    return Registry(
        directory=directory,
        staff=staff,
        courses=courses,
        levels=levels,
        training=load_training(directory / "training.yaml", courses, staff),
        ownership=ownership,
        grants=load_grants(directory / "grants.yaml", staff),
    )


def _within_retention_limits(
    path: Path, ownership: Mapping[str, Ownership], levels: Mapping[Classification, ClassificationLevel]
) -> None:
    """A dataset's period may not exceed its level's ``max_retention_days`` (personal data's)."""
    for dataset, entry in ownership.items():
        limit = levels[entry.classification].max_retention_days
        if limit is not None and entry.retention_days > limit:
            raise RegistryError(
                f"{path}: datasets[{dataset!r}] field 'retention_days': {entry.retention_days} days, but "
                f"{entry.classification} data is kept at most {limit} days (classifications.yaml)"
            )

"""Staff and dataset ownership: every dataset has a named steward and deputy from the staff list."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, EmailStr, Field

from governance.registry.departments import load_departments
from governance.registry.loading import RegistryError, read_section, validated

REGISTRY_DIR = Path(__file__).parent

Classification = Literal["public", "internal", "restricted", "personal"]


class StaffMember(BaseModel):
    id: str = Field(pattern=r"^S-\d{3}$")
    name: str
    email: EmailStr
    department: str
    role: str
    active: bool = True


class Ownership(BaseModel):
    steward: str
    deputy: str
    department: str
    classification: Classification
    retention_days: int = Field(gt=0)


@cache
def load_staff(path: Path = REGISTRY_DIR / "staff.yaml") -> dict[str, StaffMember]:
    staff: dict[str, StaffMember] = {}
    for index, entry in enumerate(read_section(path, "staff")):
        member = validated(StaffMember, entry, f"{path}: staff[{index}] (id={entry.get('id')!r})")
        if member.id in staff:
            raise RegistryError(f"{path}: staff[{index}]: duplicate staff id {member.id}")
        staff[member.id] = member
    return staff


@cache
def load_ownership(path: Path = REGISTRY_DIR / "ownership.yaml") -> dict[str, Ownership]:
    """Dataset (asset key path) -> ownership, with every staff id and department checked."""
    staff = load_staff()
    departments = {d.id for d in load_departments()}
    ownership: dict[str, Ownership] = {}
    for dataset, entry in read_section(path, "datasets").items():
        where = f"{path}: dataset {dataset!r}"
        owner = validated(Ownership, entry, where)
        for role in ("steward", "deputy"):
            staff_id = getattr(owner, role)
            if staff_id not in staff:
                raise RegistryError(f"{where} field {role!r}: unknown staff id {staff_id}")
            if not staff[staff_id].active:
                raise RegistryError(f"{where} field {role!r}: staff {staff_id} is not active")
        if owner.steward == owner.deputy:
            raise RegistryError(f"{where}: steward and deputy must be different people")
        if owner.department not in departments:
            raise RegistryError(f"{where} field 'department': unknown department {owner.department}")
        ownership[dataset] = owner
    return ownership

"""Staff and dataset ownership: every dataset has a named steward and deputy from the staff list.

This is the registry baseline. Handovers after it are recorded in the ownership ledger
(``governance.stewardship.ledger``); current ownership is this baseline with the ledger applied.
A member of staff who leaves stays in ``staff.yaml`` with ``active: false``, and the same change
names an active successor wherever the baseline still names them: a baseline owner who is not
active is a RegistryError naming the dataset. Ledger handovers still apply over the baseline, so a
role already handed over in the ledger stays with whoever the ledger gave it to. An owner the ledger
names who has left since fails that dataset's ``steward_trained`` check until it is handed over.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, EmailStr, Field, model_validator

from cityplatform.yamlfiles import RegistryError, YamlDocument, load_model
from governance.registry.departments import load_departments
from governance.registry.location import registry_dir

Classification = Literal["public", "internal", "restricted", "personal"]
# Who may approve a handover: the head of the dataset's department, or a city-wide governance officer.
ApprovalRole = Literal["department_head", "governance_officer"]
STAFF_ID = r"^S-\d{3}$"


class StaffMember(BaseModel):
    id: str = Field(pattern=STAFF_ID)
    name: str
    email: EmailStr
    department: str
    role: str  # job title, free text
    governance_role: ApprovalRole | None = None
    active: bool = True

    def approves_for(self, department: str) -> bool:
        """Whether the registry lets this person approve handovers of ``department``'s datasets
        (active or not: whether they may act today is the handover rules' business)."""
        if self.governance_role == "department_head":
            return self.department == department
        return self.governance_role == "governance_officer"

    def title(self) -> str:
        """``S-003 Kim Min-ji (governance officer)``: who, and why they may approve."""
        roles = {"department_head": f"head of {self.department}", "governance_officer": "governance officer"}
        role = roles.get(self.governance_role or "")
        return f"{self.id} {self.name}" + (f" ({role})" if role else "")


class Ownership(BaseModel):
    steward: str = Field(pattern=STAFF_ID)
    deputy: str = Field(pattern=STAFF_ID)
    department: str
    classification: Classification
    retention_days: int = Field(gt=0)
    personal_columns: list[str] = Field(
        default_factory=list,
        description="Columns that identify or single out a person (CCTV track ids, positions, "
        "per-camera times): tagged personal down to the column in Dagster and OpenLineage. A personal "
        "dataset that lists none has every column tagged.",
    )

    @model_validator(mode="before")
    @classmethod
    def _present(cls, data: object) -> object:
        if data is None:  # ``iot/bronze/x:`` with nothing under it
            raise ValueError("no owner (steward, deputy, department, classification)")
        return data

    @model_validator(mode="after")
    def _personal_columns_in_personal_data(self) -> Ownership:
        if self.personal_columns and self.classification != "personal":
            raise ValueError(
                f"personal_columns {self.personal_columns} in a dataset classified {self.classification}: "
                "a dataset with personal columns is classified personal"
            )
        return self

    @property
    def owners(self) -> tuple[str, str]:
        return (self.steward, self.deputy)


class StaffFile(YamlDocument):
    staff: list[StaffMember] = Field(min_length=1)


class OwnershipFile(YamlDocument):
    datasets: dict[str, Ownership] = Field(min_length=1)  # asset key path -> owners


def load_staff(path: Path | None = None) -> dict[str, StaffMember]:
    return _load_staff(path or registry_dir() / "staff.yaml")


def load_ownership(path: Path | None = None) -> dict[str, Ownership]:
    """Dataset (asset key path) -> baseline ownership, every staff id and department checked."""
    path = path or registry_dir() / "ownership.yaml"
    return _load_ownership(path, path.with_name("staff.yaml"))


@cache
def _load_staff(path: Path) -> dict[str, StaffMember]:
    departments = {d.id for d in load_departments()}
    staff: dict[str, StaffMember] = {}
    heads: dict[str, str] = {}  # department -> its active head
    for index, member in enumerate(load_model(path, StaffFile).staff):
        where = StaffFile.where(path, "staff", index, member)
        if member.id in staff:
            raise RegistryError(f"{where} field 'id': duplicate staff id {member.id}")
        if member.department not in departments:
            raise RegistryError(f"{where} field 'department': unknown department {member.department}")
        if member.governance_role == "department_head" and member.active:
            head = heads.setdefault(member.department, member.id)
            if head != member.id:
                raise RegistryError(
                    f"{where} field 'governance_role': {member.department} already has an active head, "
                    f"{head}; set the former head's active: false"
                )
        staff[member.id] = member
    return staff


@cache
def _load_ownership(path: Path, staff_path: Path) -> dict[str, Ownership]:
    staff = _load_staff(staff_path)
    departments = {d.id for d in load_departments()}
    datasets = load_model(path, OwnershipFile).datasets
    for dataset, owner in datasets.items():
        where = OwnershipFile.where(path, "datasets", dataset)
        for role in ("steward", "deputy"):
            staff_id = getattr(owner, role)
            if staff_id not in staff:
                raise RegistryError(f"{where} field {role!r}: unknown staff id {staff_id}")
            if not staff[staff_id].active:
                raise RegistryError(
                    f"{where} field {role!r}: {staff_id} {staff[staff_id].name} is not active "
                    f"({staff_path.name}): name an active {role} here"
                )
        if owner.steward == owner.deputy:
            raise RegistryError(f"{where} field 'deputy': steward and deputy must be different people")
        if owner.department not in departments:
            raise RegistryError(f"{where} field 'department': unknown department {owner.department}")
    return datasets

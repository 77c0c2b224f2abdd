"""Department grants: which department may read which marts buckets, why, approved by whom, until when.

Grants are by bucket because that is what every object store enforces simply and portably; the
embedded SeaweedFS and the MinIO policies in ``infra/minio`` are both generated from this file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field

from cityplatform.yamlfiles import RegistryError, YamlDocument, load_model
from governance.registry.departments import load_departments
from governance.registry.ownership import STAFF_ID, StaffMember

RENEWAL_WARNING = timedelta(days=30)


class Grant(BaseModel):
    department: str
    buckets: tuple[str, ...] = Field(min_length=1)
    purpose: str = Field(min_length=3)
    approved_by: str = Field(pattern=STAFF_ID)
    expires_on: date

    def active_on(self, day: date) -> bool:
        """Valid through its expiry day; gone the day after."""
        return day <= self.expires_on

    def due_for_renewal(self, day: date) -> bool:
        return self.expires_on - day <= RENEWAL_WARNING

    def status(self, day: date) -> str:
        """'expired', 'renew soon' (within 30 days of expiry) or 'current' on ``day``."""
        if not self.active_on(day):
            return "expired"
        return "renew soon" if self.due_for_renewal(day) else "current"


class GrantsFile(YamlDocument):
    entry_key = "department"
    grants: list[Grant]


def load_grants(path: Path, staff: Mapping[str, StaffMember]) -> tuple[Grant, ...]:
    return _load_grants(path, tuple(sorted(staff)))


@cache
def _load_grants(path: Path, staff_ids: tuple[str, ...]) -> tuple[Grant, ...]:
    departments = {d.id for d in load_departments()}
    buckets = {d.bucket for d in load_departments()}
    grants = load_model(path, GrantsFile).grants
    for index, grant in enumerate(grants):
        where = GrantsFile.where(path, "grants", index, grant)
        if grant.department not in departments:
            raise RegistryError(f"{where} field 'department': unknown department {grant.department}")
        unknown = sorted(set(grant.buckets) - buckets)
        if unknown:
            raise RegistryError(f"{where} field 'buckets': not a marts bucket: {', '.join(unknown)}")
        if grant.approved_by not in staff_ids:
            raise RegistryError(f"{where} field 'approved_by': unknown staff id {grant.approved_by}")
    return tuple(grants)


def readable_buckets(grants: Iterable[Grant], day: date) -> dict[str, list[str]]:
    """Department -> the buckets its current grants let it read on ``day`` (every department listed)."""
    readable: dict[str, set[str]] = {d.id: set() for d in load_departments()}
    for grant in grants:
        if grant.active_on(day):
            readable[grant.department].update(grant.buckets)
    return {department: sorted(buckets) for department, buckets in readable.items()}


def grants_due_for_renewal(grants: Iterable[Grant], day: date) -> dict[str, int]:
    """Per department, the grants that expire within 30 days or already have."""
    return dict(Counter(grant.department for grant in grants if grant.due_for_renewal(day)))

"""Seam for department grants, which are built separately: how many are due for renewal.

Reads ``grants.yaml`` in the registry folder when it exists (``grants: [{department, marts,
purpose, expires_on}, ...]``) and counts per department the grants that expire within 30 days
or already have. Until that file exists the answer is None and the scorecard says "no grants
registry" instead of a misleading zero. When the grants registry gets its own loader, call it here.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from governance.registry.loading import RegistryError, entry_label, read_section, validated
from governance.stewardship.training import EXPIRY_WARNING


class _Grant(BaseModel):
    model_config = ConfigDict(extra="allow")

    department: str
    expires_on: date


def grants_due_for_renewal(directory: Path, on: date) -> dict[str, int] | None:
    path = directory / "grants.yaml"
    if not path.exists():
        return None
    entries = read_section(path, "grants")
    if not isinstance(entries, list):
        raise RegistryError(f"{path}: 'grants' must be a list of grants")
    due: Counter[str] = Counter()
    for index, entry in enumerate(entries):
        grant = validated(_Grant, entry, f"{path}: grants[{index}] ({entry_label(entry, 'department')})")
        if grant.expires_on - on <= EXPIRY_WARNING:
            due[grant.department] += 1
    return dict(due)

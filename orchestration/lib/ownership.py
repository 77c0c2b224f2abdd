"""Owners, department, classification and retention on every asset, from current ownership.

Current ownership is the registry baseline with the ownership ledger's handovers applied, read
once per definitions load. When the ledger cannot be read at load time (S3 down on a laptop), the
UI shows the baseline and says so on every asset; the ``steward_trained`` checks read the ledger
again at run time and never fall back.
"""

from __future__ import annotations

import logging

import dagster as dg

from cityplatform.objectstore import ObjectStore, ObjectStoreError
from cityplatform.settings import load_settings
from governance.registry.registry import Registry, load_registry
from governance.stewardship.ledger_store import (
    CurrentOwnership,
    LedgerBroken,
    OwnershipLedger,
    current_ownership,
)

log = logging.getLogger(__name__)


def load_current_ownership(registry: Registry | None = None) -> CurrentOwnership:
    registry = registry or load_registry()
    try:
        return current_ownership(registry, OwnershipLedger(ObjectStore.from_settings(load_settings())))
    except (ObjectStoreError, LedgerBroken) as exc:
        log.warning("owners shown from the registry baseline only: %s", exc)
        return CurrentOwnership(dict(registry.ownership), (), f"registry baseline only ({exc})")


def apply_ownership(spec: dg.AssetSpec, ownership: CurrentOwnership) -> dg.AssetSpec:
    """Steward and deputy as Dagster owners; the rest as tags and metadata (one place for all assets)."""
    entry = ownership.datasets.get(spec.key.to_user_string())
    if entry is None:  # the definitions test reports every asset missing from the registry
        return spec
    registry = load_registry()
    staff = registry.staff

    def who(staff_id: str) -> str:
        return (
            f"{staff_id} {staff[staff_id].name}"
            if staff_id in staff
            else f"{staff_id} (not on the staff list)"
        )

    return spec.replace_attributes(
        owners=[staff[s].email for s in entry.owners if s in staff],
        tags={
            **spec.tags,
            "department": entry.department,
            "classification": entry.classification,
        },
    ).merge_attributes(
        metadata={
            "steward": who(entry.steward),
            "deputy": who(entry.deputy),
            "retention_days": entry.retention_days,
            "training_required": ", ".join(registry.required_courses(entry.classification)),
            "ownership_source": ownership.source,
        }
    )

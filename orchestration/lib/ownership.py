"""Owners, department, classification and retention on every asset, from the registry and the ledger.

The code location loads from files only: :func:`registry_ownership` is the registry baseline (YAML
on disk), applied to every spec when the definitions are built, so the UI shows the registry's
owners. Handovers recorded in the ownership ledger (S3) apply when a run needs the owners: the
``steward_trained`` checks and the scorecards read the anchored ledger and never fall back, and
lineage reports the owners of :func:`owned_in_run`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache

import dagster as dg

from cityplatform.objectstore import ObjectStore, ObjectStoreError
from cityplatform.settings import load_settings
from governance.lineage.facets import LEDGER_UNREADABLE, OWNERSHIP_SOURCE, PERSONAL
from governance.registry.registry import Registry, load_registry
from governance.stewardship.ledger_store import (
    CurrentOwnership,
    LedgerBroken,
    OwnershipLedger,
    current_ownership,
)
from orchestration.lib.metadata import plain

log = logging.getLogger(__name__)


BASELINE_SOURCE = "registry baseline (handovers in the ownership ledger apply in runs)"
PERSONAL_COLUMNS = "personal_columns"  # metadata: the registry's personal columns of the dataset
PII_TAGS = {"pii": "true", "classification": "personal"}  # on each personal column (TableColumn tags)


def registry_ownership(registry: Registry | None = None) -> CurrentOwnership:
    """The registry baseline alone: no I/O beyond the registry files, so it can run at load."""
    registry = registry or load_registry()
    return CurrentOwnership(dict(registry.ownership), (), BASELINE_SOURCE)


def load_current_ownership(registry: Registry | None = None) -> CurrentOwnership:
    """At run time: the baseline with the ledger's handovers, or, for what reports owners without
    judging them (lineage), the baseline if the ledger cannot be read: logged, and its source says
    so (``registry (ledger unreadable: why)``), which lineage sends as the ``ownership_source`` tag."""
    registry = registry or load_registry()
    try:
        return current_ownership(registry, OwnershipLedger(ObjectStore.from_settings(load_settings())))
    except (ObjectStoreError, LedgerBroken) as exc:
        log.warning("owners shown from the registry baseline only: %s", exc)
        return CurrentOwnership(dict(registry.ownership), (), LEDGER_UNREADABLE.format(exc))


@lru_cache(maxsize=8)
def _ownership_of_run(run_id: str) -> CurrentOwnership:
    return load_current_ownership()


def owned_in_run(spec: dg.AssetSpec, run_id: str) -> dg.AssetSpec:
    """``spec`` with the owners the ledger gives when run ``run_id`` first asks (the ledger is read
    once per run and process, however many assets a step reports), for lineage's ownership facet."""
    return apply_ownership(spec, _ownership_of_run(run_id))


def apply_ownership(spec: dg.AssetSpec, ownership: CurrentOwnership) -> dg.AssetSpec:
    """Steward and deputy as Dagster owners (steward first); the rest as tags and metadata (one place
    for all assets). Dagster owners are e-mails without a role, so the roles are tags (``steward``,
    ``deputy``: staff ids, which the UI can filter by) and labelled metadata (name, id, e-mail)."""
    entry = ownership.datasets.get(spec.key.to_user_string())
    if entry is None:  # the definitions test reports every asset missing from the registry
        return spec
    registry = load_registry()
    staff = registry.staff

    def who(staff_id: str) -> str:
        if staff_id not in staff:
            return f"{staff_id} (not on the staff list)"
        member = staff[staff_id]
        return f"{member.name} ({staff_id}, {member.email})"

    personal: dict[str, object] = {}
    if entry.personal_columns:
        personal[PERSONAL_COLUMNS] = list(entry.personal_columns)
        columns = plain(spec.metadata.get("dagster/column_schema"))
        if isinstance(columns, dg.TableSchema):
            personal["dagster/column_schema"] = tag_personal(columns, entry.personal_columns)
    return spec.replace_attributes(
        owners=[staff[s].email for s in entry.owners if s in staff],
        tags={
            **spec.tags,
            "department": entry.department,
            "classification": entry.classification,
            # tag values: letters, digits, '-', '_' and '.' only
            "steward": entry.steward,
            "deputy": entry.deputy,
            "retention_days": str(entry.retention_days),
            "personal_data": str(entry.classification == PERSONAL).lower(),
        },
    ).merge_attributes(
        metadata={
            "steward": who(entry.steward),
            "deputy": who(entry.deputy),
            "retention_days": entry.retention_days,
            "training_required": ", ".join(registry.required_courses(entry.classification)),
            OWNERSHIP_SOURCE: ownership.source,
            **personal,
        }
    )


def tag_personal(schema: dg.TableSchema, personal: Sequence[str]) -> dg.TableSchema:
    """``schema`` with the personal columns tagged (:data:`PII_TAGS`), so the UI and lineage show them."""
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                column.name,
                column.type,
                column.description,
                column.constraints,
                {**column.tags, **PII_TAGS} if column.name in personal else column.tags,
            )
            for column in schema.columns
        ],
        constraints=schema.constraints,
    )

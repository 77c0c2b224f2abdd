"""Whether a handover may be recorded: the rules, apart from storage. Pure.

The requester is always the dataset's current steward (for a deputy change too: the steward asks
for a new deputy). Nobody approves a change they ask for or benefit from, and a dataset is never
handed to someone who could not pass its ``steward_trained`` check that day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from governance.registry.ownership import Ownership
from governance.registry.registry import Registry
from governance.stewardship.ledger import Handover
from governance.stewardship.rules import Role
from governance.stewardship.training import qualification


class HandoverRefused(ValueError):
    """The handover breaks a rule; the message says which and what to do."""


def plan_handover(
    registry: Registry,
    current: Mapping[str, Ownership],
    *,
    dataset: str,
    to_staff: str,
    approved_by: str,
    reason: str,
    on: date,
    role: Role = "steward",
) -> Handover:
    ownership = current.get(dataset)
    if ownership is None:
        raise HandoverRefused(f"unknown dataset {dataset!r}: not in {registry.directory / 'ownership.yaml'}")
    for label, staff_id in (("--to", to_staff), ("--approved-by", approved_by)):
        member = registry.staff.get(staff_id)
        if member is None:
            raise HandoverRefused(f"{label}: unknown staff id {staff_id}")
        if not member.active:
            raise HandoverRefused(f"{label}: {staff_id} {member.name} is no longer active")
    holder = getattr(ownership, role)
    other_role: Role = "deputy" if role == "steward" else "steward"
    requester = ownership.steward
    if to_staff == holder:
        raise HandoverRefused(f"{to_staff} is already the {role} of {dataset}")
    if to_staff == getattr(ownership, other_role):
        raise HandoverRefused(
            f"{to_staff} is the {other_role} of {dataset}; name a new {other_role} first "
            f"(--role {other_role}) so steward and deputy stay two people"
        )
    if approved_by == requester:
        raise HandoverRefused(
            f"{approved_by} is the current steward of {dataset} and requests this handover: "
            "someone else must approve it"
        )
    if approved_by == to_staff:
        raise HandoverRefused(f"{approved_by} cannot approve a handover to themselves")
    if not reason.strip():
        raise HandoverRefused("--reason is required: the ledger says why ownership changed")
    level = ownership.classification
    standing = qualification(registry, to_staff, level, on)
    if not standing.trained:
        lapsed = ", ".join(f"{c.course} ({c.state})" for c in standing.lapsed)
        raise HandoverRefused(
            f"{to_staff} has no current training for {level} data on {on}: {lapsed}; "
            "they must complete it before taking the dataset over"
        )
    return Handover(
        dataset=dataset,
        role=role,
        from_staff=holder,
        to_staff=to_staff,
        reason=reason.strip(),
        requested_by=requester,
        approved_by=approved_by,
    )

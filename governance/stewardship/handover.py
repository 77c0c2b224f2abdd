"""Whether a handover may be recorded: the rules, apart from storage. Pure.

Four eyes, each of them a named, checked person:

- the requester is whoever runs the command (``governance.stewardship.identity``): the dataset's
  steward or deputy, or someone who may approve its handovers (when the steward has left, their
  department head or a governance officer asks);
- the approver is someone the registry names for it (``staff.yaml`` ``governance_role``: the head
  of the dataset's department, or a governance officer), active and currently trained for the
  dataset's classification, and never the requester, a current owner of the dataset or the
  recipient. A refusal names who may approve instead.

A dataset is never handed to someone who could not pass its ``steward_trained`` check that day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from governance.registry.ownership import Ownership
from governance.registry.registry import Registry
from governance.stewardship.identity import Requester
from governance.stewardship.ledger import Handover
from governance.stewardship.rules import Role
from governance.stewardship.training import Qualification, qualification


class HandoverRefused(ValueError):
    """The handover breaks a rule; the message says which and what to do."""


def plan_handover(
    registry: Registry,
    current: Mapping[str, Ownership],
    *,
    dataset: str,
    to_staff: str,
    requester: Requester,
    approved_by: str,
    reason: str,
    on: date,
    role: Role = "steward",
) -> Handover:
    ownership = current.get(dataset)
    if ownership is None:
        raise HandoverRefused(f"unknown dataset {dataset!r}: not in {registry.directory / 'ownership.yaml'}")
    asker = requester.staff_id
    for label, staff_id in ((requester.source, asker), ("--to", to_staff)):
        _present(registry, label, staff_id, "")
    holder = getattr(ownership, role)
    other_role: Role = "deputy" if role == "steward" else "steward"
    if to_staff == holder:
        raise HandoverRefused(f"{to_staff} is already the {role} of {dataset}")
    if to_staff == getattr(ownership, other_role):
        raise HandoverRefused(
            f"{to_staff} is the {other_role} of {dataset}; name a new {other_role} first "
            f"(--role {other_role}) so steward and deputy stay two people"
        )
    approvers = registry.approvers(ownership.department)
    if asker not in (*ownership.owners, *(member.id for member in approvers)):
        raise HandoverRefused(
            f"{asker} may not request a handover of {dataset}: its steward {ownership.steward}, its deputy "
            f"{ownership.deputy}, the head of {ownership.department} or a governance officer may"
        )
    level = ownership.classification
    excluded = {asker, *ownership.owners, to_staff}
    eligible = [
        member.title()
        for member in approvers
        if member.active
        and member.id not in excluded
        and qualification(registry, member.id, level, on).trained
    ]
    who_may = (
        f"who may approve: {', '.join(eligible)}"
        if eligible
        else f"nobody may approve it today: no active head of {ownership.department} or governance officer "
        f"trained for {level} data is free of it (staff.yaml governance_role)"
    )
    _present(registry, "--approved-by", approved_by, f"; {who_may}")
    if approved_by == to_staff:
        raise HandoverRefused(f"{approved_by} cannot approve a handover to themselves; {who_may}")
    involved = [
        f"is the current {r} of {dataset}"
        for r in ("steward", "deputy")
        if getattr(ownership, r) == approved_by
    ]
    if approved_by == asker:
        involved.append("requests this handover")
    if involved:
        raise HandoverRefused(
            f"{approved_by} {' and '.join(involved)}: someone else must approve it; {who_may}"
        )
    approver = registry.staff[approved_by]
    if not approver.approves_for(ownership.department):
        raise HandoverRefused(
            f"{approver.title()} may not approve handovers of {dataset} ({ownership.department}); {who_may}"
        )
    standing = qualification(registry, approved_by, level, on)
    if not standing.trained:
        raise HandoverRefused(
            f"{approved_by} has no current training for {level} data on {on} ({_lapsed(standing)}) "
            f"and cannot approve; {who_may}"
        )
    if not reason.strip():
        raise HandoverRefused("--reason is required: the ledger says why ownership changed")
    standing = qualification(registry, to_staff, level, on)
    if not standing.trained:
        raise HandoverRefused(
            f"{to_staff} has no current training for {level} data on {on}: {_lapsed(standing)}; "
            "they must complete it before taking the dataset over"
        )
    return Handover(
        dataset=dataset,
        role=role,
        from_staff=holder,
        to_staff=to_staff,
        reason=reason.strip(),
        requested_by=asker,
        approved_by=approved_by,
        requested_via=requester.via,
    )


def _present(registry: Registry, label: str, staff_id: str, then: str) -> None:
    """Refused unless ``staff_id`` is on the staff list and active; ``then`` ends the message."""
    member = registry.staff.get(staff_id)
    if member is None:
        raise HandoverRefused(f"{label}: unknown staff id {staff_id}{then}")
    if not member.active:
        raise HandoverRefused(f"{label}: {staff_id} {member.name} is no longer active{then}")


def _lapsed(standing: Qualification) -> str:
    return ", ".join(f"{course.course} ({course.state})" for course in standing.lapsed)

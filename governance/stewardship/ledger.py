"""The ownership ledger's entries and hash chain. Pure: storage lives in ``ledger_store``.

Each entry records one handover and carries the SHA-256 of the canonical JSON of its own fields
plus the hash of the entry before it. Changing, removing or reordering any recorded entry breaks
every hash after it, so ``verify_chain`` names the first entry that no longer fits.

Versions: an entry without a ``version`` field is version 1, as first recorded; version 2 adds
``requested_via``, how the requester was established (``governance.stewardship.identity``). The
hash covers whichever fields an entry has, so version 1 entries verify as they always did, and
chains mix both. New entries are version 2.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from governance.registry.ownership import STAFF_ID, Ownership
from governance.stewardship.identity import Via
from governance.stewardship.rules import Role

GENESIS = "0" * 64
_ENTRY_NAME = re.compile(r"^(\d{8})-([0-9a-f]{16})\.json$")


class LedgerEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1, 2] = 1  # absent from version 1 entries
    seq: int = Field(ge=1)
    recorded_at: str
    dataset: str
    role: Role
    from_staff: str = Field(pattern=STAFF_ID)
    to_staff: str = Field(pattern=STAFF_ID)
    reason: str = Field(min_length=3)
    requested_by: str = Field(pattern=STAFF_ID)
    approved_by: str = Field(pattern=STAFF_ID)
    requested_via: Via | None = None  # version 2 on
    prev_hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")

    @model_validator(mode="after")
    def _versioned(self) -> LedgerEntry:
        if self.version == 1 and self.requested_via is not None:
            raise ValueError("requested_via needs version 2")
        if self.version == 2 and self.requested_via is None:
            raise ValueError("a version 2 entry records requested_via")
        return self

    @property
    def name(self) -> str:
        """Object name: position first (ordering), then the hash (two writers never collide)."""
        return f"{self.seq:08d}-{self.hash[:16]}.json"

    def to_bytes(self) -> bytes:
        """The stored form: the fields the entry was made with (a version 1 entry stays as it was)."""
        return canonical(self.model_dump(exclude_unset=True))


@dataclass(frozen=True)
class Handover:
    """A handover that passed every rule, ready to be sealed into the ledger."""

    dataset: str
    role: Role
    from_staff: str
    to_staff: str
    reason: str
    requested_by: str
    approved_by: str
    requested_via: Via


def canonical(document: Mapping[str, Any]) -> bytes:
    """The one byte form that is hashed: sorted keys, no spaces, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in fields.items() if k != "hash"})).hexdigest()


def seal(handover: Handover, seq: int, prev_hash: str, recorded_at: datetime | None = None) -> LedgerEntry:
    moment = (recorded_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    fields: dict[str, Any] = {
        "version": 2,
        "seq": seq,
        "recorded_at": moment.isoformat().replace("+00:00", "Z"),
        "dataset": handover.dataset,
        "role": handover.role,
        "from_staff": handover.from_staff,
        "to_staff": handover.to_staff,
        "reason": handover.reason,
        "requested_by": handover.requested_by,
        "approved_by": handover.approved_by,
        "requested_via": handover.requested_via,
        "prev_hash": prev_hash,
    }
    return LedgerEntry(**fields, hash=entry_hash(fields))


@dataclass(frozen=True)
class Verification:
    """The entries that verify, in order, and the first one that does not (if any)."""

    entries: tuple[LedgerEntry, ...]
    broken_at: str | None = None  # the name of the first broken entry
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def head(self) -> str:
        return self.entries[-1].hash if self.entries else GENESIS


def verify_chain(objects: Sequence[tuple[str, bytes]]) -> Verification:
    """Check stored ``(name, bytes)`` objects, sorted by name, as one unbroken chain from GENESIS."""
    entries: list[LedgerEntry] = []

    def broken(name: str, problem: str) -> Verification:
        return Verification(tuple(entries), name, problem)

    for position, (name, raw) in enumerate(objects, start=1):
        match = _ENTRY_NAME.match(name)
        if match is None:
            return broken(name, "not a ledger entry name (<8-digit position>-<16 hex>.json)")
        if int(match.group(1)) != position:
            if int(match.group(1)) == position - 1:
                return broken(name, f"a second entry at position {position - 1}: the ledger forked")
            return broken(name, f"expected position {position}: entry {position} is missing")
        try:
            fields = json.loads(raw)
            entry = LedgerEntry.model_validate(fields)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(map(str, first["loc"]))
            return broken(name, f"not a valid entry: {field + ': ' if field else ''}{first['msg']}")
        except ValueError as exc:
            return broken(name, f"not a valid entry: {str(exc).splitlines()[0]}")
        if entry.seq != position:
            return broken(name, f"says it is entry {entry.seq} but is stored at position {position}")
        previous = entries[-1].hash if entries else GENESIS
        if entry.prev_hash != previous:
            return broken(name, "prev_hash differs from the entry before it: one was removed or replaced")
        if entry_hash(fields) != entry.hash:
            return broken(name, "hash mismatch: its contents changed after it was recorded")
        if match.group(2) != entry.hash[:16]:
            return broken(name, "its name does not carry its hash: renamed or replaced")
        entries.append(entry)
    return Verification(tuple(entries))


def continues(entries: Sequence[LedgerEntry], seen_count: int, seen_head: str) -> str | None:
    """Why ``entries`` do not continue the chain once seen with ``seen_count`` entries ending in
    ``seen_head``, or None when they do. A chain whose newest entries were deleted still verifies
    on its own: only a head remembered elsewhere shows the loss."""
    if seen_count == 0:
        return None
    if len(entries) < seen_count:
        return f"it holds {len(entries)} entries where {seen_count} were seen: the newest were removed"
    if entries[seen_count - 1].hash != seen_head:
        return f"entry {seen_count} is not the one seen (hash {seen_head[:12]}): the ledger was rewritten"
    return None


def apply_entries(baseline: Mapping[str, Ownership], entries: Sequence[LedgerEntry]) -> dict[str, Ownership]:
    """Current ownership: the registry baseline with every handover applied in ledger order.

    Entries for a dataset no longer in the registry (a retired asset) are history only.
    """
    current = dict(baseline)
    for entry in entries:
        if entry.dataset in current:
            current[entry.dataset] = current[entry.dataset].model_copy(update={entry.role: entry.to_staff})
    return current

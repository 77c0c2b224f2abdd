"""The ownership ledger in the object store: one immutable object per entry.

Why S3 and not a file on someone's disk: stewards hand over from their own machines, Dagster
checks run on workers, and the UI's code server loads owners; all of them must see one ledger.
A dedicated ``governance`` bucket (not a prefix of ``lineage``) because the embedded server's
access rules scope by bucket only, so stewards can be allowed to append here without write
access to lineage, and production can put this one bucket under MinIO object lock (WORM).

Appending writes a new object named ``<position>-<hash>.json`` and never rewrites one. Two
handovers racing for the same position both land (different names). Each writer then lists its
position: one that finds another entry there removes its own and asks its user to run again, so
an entry once reported as recorded is never displaced (S3 listings are read-after-write consistent).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import urllib3
from minio.error import S3Error

from cityplatform.objectstore import ObjectStore, ObjectStoreError, parse_s3_uri
from cityplatform.settings import load_settings
from governance.registry.ownership import Ownership
from governance.registry.registry import Registry
from governance.stewardship.ledger import (
    Handover,
    LedgerEntry,
    Verification,
    apply_entries,
    seal,
    verify_chain,
)


class LedgerBroken(RuntimeError):
    """The stored chain does not verify; nothing is appended and nobody should trust it."""


class LedgerConflict(RuntimeError):
    """Another handover was recorded at the same position at the same moment."""


class OwnershipLedger:
    def __init__(self, store: ObjectStore, location: str | None = None) -> None:
        self.store = store
        self.location = location or load_settings().ownership_ledger
        bucket, prefix = parse_s3_uri(self.location)
        self.bucket, self.prefix = bucket, prefix.rstrip("/") + "/"

    def uri(self, name: str = "") -> str:
        return f"s3://{self.bucket}/{self.prefix}{name}"

    def stored(self) -> list[tuple[str, bytes]]:
        """Every stored ``(name, bytes)`` in name order; empty when the bucket does not exist yet."""
        try:
            objects = list(self.store.list_objects(self.bucket, self.prefix))
            blobs = self.store.get_many(objects)
        except S3Error as exc:
            if exc.code == "NoSuchBucket":
                return []
            raise ObjectStoreError(f"cannot read the ownership ledger at {self.uri()}: {exc.code}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ObjectStoreError(
                f"cannot read the ownership ledger at {self.uri()}: {self.store.unreachable(exc)}"
            ) from exc
        return [(o.key[len(self.prefix) :], blob) for o, blob in zip(objects, blobs, strict=True)]

    def verify(self) -> Verification:
        return verify_chain(self.stored())

    def verified(self) -> Verification:
        """The verified chain, or LedgerBroken naming the first entry that does not verify."""
        verification = self.verify()
        if not verification.ok:
            where = self.uri(verification.broken_at or "")
            raise LedgerBroken(f"ownership ledger broken at {where}: {verification.problem}")
        return verification

    def entries(self) -> tuple[LedgerEntry, ...]:
        return self.verified().entries

    def append(self, handover: Handover, recorded_at: datetime | None = None) -> LedgerEntry:
        chain = self.verified()
        entry = seal(handover, len(chain.entries) + 1, chain.head, recorded_at)
        self.store.ensure_buckets([self.bucket])
        key = self.prefix + entry.name
        self.store.put_bytes(self.bucket, key, entry.to_bytes(), "application/json")
        at_position = self.store.list_objects(self.bucket, f"{self.prefix}{entry.seq:08d}-")
        if any(other.key != key for other in at_position):
            self.store.delete_prefix(self.bucket, key)
            raise LedgerConflict(f"another handover took entry {entry.seq} at the same moment: run again")
        return entry


@dataclass(frozen=True)
class CurrentOwnership:
    """Registry baseline + ledger, and where that came from (shown beside the owners)."""

    datasets: dict[str, Ownership]
    entries: tuple[LedgerEntry, ...]
    source: str


def current_ownership(registry: Registry, ledger: OwnershipLedger) -> CurrentOwnership:
    """Raises ObjectStoreError when S3 cannot be read and LedgerBroken when the chain fails."""
    entries = ledger.entries()
    head = entries[-1].hash[:12] if entries else "empty"
    return CurrentOwnership(
        apply_entries(registry.ownership, entries),
        entries,
        f"registry baseline + {ledger.uri()} ({len(entries)} handovers, head {head})",
    )

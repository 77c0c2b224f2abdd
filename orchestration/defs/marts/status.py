"""A status object beside each published mart (``s3://<bucket>/<mart>/status.json``), so a department
reading its bucket sees whether the days it reads are current and passed their checks, or that the
latest run did not publish the mart and why (an upstream dataset without a trained owner).

A publication writes ``published`` with the days it wrote and the outcome of the mart's checks in
that run; a build that blocks a mart writes ``blocked`` with the reason, keeping the last
publication's days and run so the reader knows exactly how stale the data is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from cityplatform.layout import mart_status_key
from cityplatform.objectstore import ObjectStore
from governance.department_report import CheckStatus

PUBLISHED, BLOCKED = "published", "blocked"
JSON = "application/json"


def read_status(store: ObjectStore, bucket: str, mart: str) -> dict[str, Any] | None:
    """The mart's status object, or None before its first publication or block."""
    if store.stat(bucket, mart_status_key(mart)) is None:
        return None
    return json.loads(store.get_bytes(bucket, mart_status_key(mart)))


def write_published(
    store: ObjectStore,
    bucket: str,
    checks: Mapping[str, CheckStatus],
    *,
    first: date,
    last: date,
    run_id: str,
) -> None:
    """``published`` for each mart of ``checks`` (name -> its checks in the publishing run)."""
    for mart, status in checks.items():
        _write(
            store,
            bucket,
            mart,
            {
                "state": PUBLISHED,
                "reason": None,
                "last_published": {"from": first.isoformat(), "to": last.isoformat(), "run_id": run_id},
                "checks": status.status,
                "checks_detail": status.detail,
                "run_id": run_id,
            },
        )


def write_blocked(store: ObjectStore, bucket: str, reasons: Mapping[str, str], *, run_id: str) -> None:
    """``blocked`` for each mart of ``reasons`` (name -> why), keeping its last publication."""
    for mart, reason in reasons.items():
        previous = read_status(store, bucket, mart) or {}
        _write(
            store,
            bucket,
            mart,
            {
                "state": BLOCKED,
                "reason": reason,
                "last_published": previous.get("last_published"),
                "checks": previous.get("checks"),
                "checks_detail": previous.get("checks_detail"),
                "run_id": run_id,
            },
        )


def _write(store: ObjectStore, bucket: str, mart: str, fields: dict[str, Any]) -> None:
    document = {"mart": mart, **fields, "updated_at": datetime.now(UTC).isoformat(timespec="seconds")}
    store.put_bytes(bucket, mart_status_key(mart), json.dumps(document, indent=1).encode(), JSON)

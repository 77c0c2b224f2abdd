"""Read emitted events back: from the object-store archive or the local file transport's files.

The review needs, per job, its newest event (is it running, did it fail?) and its newest COMPLETE
(what it last read and wrote, with owners and check results). The archive's keys say job, time and
type, so only those events are fetched however long the history grows.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cityplatform.layout import LINEAGE_EVENTS_PREFIX, LineageEventKey, parse_lineage_event_key
from cityplatform.objectstore import LINEAGE, ObjectInfo, ObjectStore

Event = dict[str, Any]


def _pick(candidates: Iterable[tuple[tuple[str, str], str, str, Any]]) -> list[Any]:
    """From (job, time, type, item): each job's newest item and its newest COMPLETE item."""
    newest: dict[tuple[str, str], tuple[str, Any]] = {}
    completed: dict[tuple[str, str], tuple[str, Any]] = {}
    for job, time, event_type, item in candidates:
        if job not in newest or time > newest[job][0]:
            newest[job] = (time, item)
        if event_type == "COMPLETE" and (job not in completed or time > completed[job][0]):
            completed[job] = (time, item)
    chosen = {id(item): item for _, item in [*newest.values(), *completed.values()]}
    return list(chosen.values())


def archived_events(store: ObjectStore, bucket: str = LINEAGE) -> list[Event]:
    """The events the review needs, from ``s3://<bucket>/events/``."""
    listed: list[tuple[LineageEventKey, ObjectInfo]] = [
        (parsed, info)
        for info in store.list_objects(bucket, LINEAGE_EVENTS_PREFIX)
        if (parsed := parse_lineage_event_key(info.key)) is not None
    ]
    picked: list[ObjectInfo] = _pick(
        ((k.job_namespace, k.job_name), k.stamp, k.event_type, info) for k, info in listed
    )
    return [json.loads(data) for data in store.get_many(picked)]


def file_events(directory: Path) -> list[Event]:
    """The events the review needs, from the file transport's ``events-*.jsonl`` in ``directory``."""
    events = [
        json.loads(line)
        for path in sorted(directory.glob("events-*.jsonl"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    return _pick(
        ((e["job"]["namespace"], e["job"]["name"]), _utc_sort_key(e["eventTime"]), e.get("eventType", ""), e)
        for e in events
    )


def _utc_sort_key(event_time: str) -> str:
    """The archive key's time format, so both sources order events the same way."""
    return datetime.fromisoformat(event_time).astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")

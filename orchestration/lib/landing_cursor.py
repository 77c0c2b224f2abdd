"""Sensor cursors over landing prefixes: which objects arrived since the last tick.

The cursor is a last-modified watermark plus the (key, etag) pairs seen at exactly that instant
(S3 times have one-second resolution), so a tick lists once and never misses an object, nor a
change to one within the same second; only a byte-identical re-put in that second goes unseen,
and it would request the same run key anyway.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from cityplatform.objectstore import ObjectInfo


def _read_cursor(cursor: str | None) -> tuple[datetime, set[tuple[str, str]]]:
    if not cursor:
        return datetime.min.replace(tzinfo=UTC), set()
    state = json.loads(cursor)
    # A cursor written before etags were kept lists bare keys: those objects are listed once more,
    # and their unchanged run keys make Dagster skip them.
    seen = {
        (entry, "") if isinstance(entry, str) else (entry[0], entry[1]) for entry in state["at_watermark"]
    }
    return datetime.fromisoformat(state["watermark"]), seen


def watermark(cursor: str | None) -> datetime | None:
    """The newest last-modified time the cursor has seen; None before the first object."""
    return _read_cursor(cursor)[0] if cursor else None


def fresh_objects(objects: list[ObjectInfo], cursor: str | None) -> tuple[list[ObjectInfo], str | None]:
    """Objects newer than the cursor, and the advanced cursor (unchanged when nothing is new)."""
    watermark, seen = _read_cursor(cursor)
    fresh = [
        o
        for o in objects
        if o.last_modified is not None
        and (o.last_modified > watermark or (o.last_modified == watermark and (o.key, o.etag) not in seen))
    ]
    if not fresh:
        return [], cursor
    newest = max(o.last_modified for o in fresh if o.last_modified is not None)
    at_newest = {(o.key, o.etag) for o in objects if o.last_modified == newest}
    if newest == watermark:
        at_newest |= seen
    return fresh, json.dumps({"watermark": newest.isoformat(), "at_watermark": sorted(at_newest)})

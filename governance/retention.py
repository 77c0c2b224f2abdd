"""Which stored objects and warehouse days are past their dataset's retention period: pure rules, no
storage access.

Retention periods are the registry's (``retention_days`` in ``governance/registry/ownership.yaml``);
where each dataset lies is what its asset declares (``dagster/uri``), so the datasets in scope are
listed once, in ``orchestration.defs.governance.retention``, and nothing here knows bucket names.

An object's age is counted from the ``date=YYYY-MM-DD`` partition in its key (the local day its data
belongs to) or, for a key with none, from its last-modified time as a local date in the city's time
zone. An object is past retention when more than ``retention_days`` whole days separate that day
from today: with 30 days, today's data and the 30 days before it are kept. An object with neither a
partition nor a last-modified time is kept: nothing is deleted on a guess. A warehouse table's rows
are aged the same way by the local day in their day column (:func:`oldest_kept`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from cityplatform.layout import partition_date
from cityplatform.objectstore import ObjectInfo, parse_s3_uri


@dataclass(frozen=True)
class Location:
    """A prefix in object storage holding one dataset's objects, kept for that dataset's period."""

    dataset: str  # the asset key whose registry entry sets the period, e.g. "cctv/raw/clips"
    uri: str  # s3://bucket/prefix/
    retention_days: int

    @property
    def bucket(self) -> str:
        return parse_s3_uri(self.uri)[0]

    @property
    def prefix(self) -> str:
        return parse_s3_uri(self.uri)[1]

    def holds(self, obj: ObjectInfo) -> bool:
        return obj.bucket == self.bucket and obj.key.startswith(self.prefix)


@dataclass(frozen=True)
class WarehouseTable:
    """A warehouse table whose rows each belong to a local day, kept for that dataset's period."""

    dataset: str  # the asset key whose registry entry sets the period, e.g. "marts/traffic/fct_x"
    relation: str  # database.schema.table, as dbt names it
    day_column: str
    retention_days: int

    @property
    def schema(self) -> str:
        return self.relation.split(".")[-2]

    @property
    def name(self) -> str:
        return self.relation.split(".")[-1]


@dataclass(frozen=True)
class ExpiredDay:
    """The rows of one local day of a warehouse table that are past the table's period."""

    table: WarehouseTable
    day: date
    rows: int


def oldest_kept(today: date, retention_days: int) -> date:
    """The oldest day a period of ``retention_days`` still keeps on ``today``: every day before goes."""
    return today - timedelta(days=retention_days)


@dataclass(frozen=True)
class Expired:
    """An object past its location's retention, and the day its age was counted from."""

    location: Location
    object: ObjectInfo
    day: date
    partitioned: bool  # the day is the key's date= partition, not the last-modified date


def _local_day(obj: ObjectInfo, timezone: ZoneInfo) -> date | None:
    """The city's calendar day of the object's last modification (``None`` if S3 gave no time)."""
    return obj.last_modified.astimezone(timezone).date() if obj.last_modified else None


def check_disjoint(locations: Sequence[Location]) -> None:
    """Refuse locations that overlap: an object under two prefixes would have two periods."""
    for i, first in enumerate(locations):
        for second in locations[i + 1 :]:
            nested = first.prefix.startswith(second.prefix) or second.prefix.startswith(first.prefix)
            if first.bucket == second.bucket and nested:
                raise ValueError(
                    f"retention locations overlap: {first.uri} ({first.dataset}) "
                    f"and {second.uri} ({second.dataset})"
                )


def past_retention(
    locations: Sequence[Location], objects: Iterable[ObjectInfo], today: date, timezone: ZoneInfo
) -> list[Expired]:
    """Every object under one of ``locations`` dated more than its period before ``today`` (the city's
    date), oldest first; objects outside every location are not this function's to judge."""
    check_disjoint(locations)
    expired: list[Expired] = []
    for obj in objects:
        location = next((loc for loc in locations if loc.holds(obj)), None)
        if location is None:
            continue
        partition = partition_date(obj.key)
        day = partition or _local_day(obj, timezone)
        if day is not None and day < oldest_kept(today, location.retention_days):
            expired.append(Expired(location, obj, day, partitioned=partition is not None))
    return sorted(expired, key=lambda item: (item.day, item.object.uri))

"""The landing manifest: which objects (key and etag) make up one day of IoT readings.

Bronze is built from the manifest, not from a fresh listing, so a run ingests exactly the
snapshot it was asked for, and a re-delivered object with the same etag changes nothing.

A reading may arrive up to ``MAX_LATENESS`` after it was observed, so the readings of day D that
came late lie in D+1's first slots (landing keys are named by the delivering slot). A day's
manifest therefore holds D's objects and those first slots of D+1; ingestion keeps each line for
the one day it belongs to (:func:`ingestion.iot.ingest_kind`). A folder under ``iot/`` that is no
sensor kind is listed too (the day's objects only), so that ingestion quarantines what it holds
instead of leaving it unread and unreported.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from cityplatform.layout import (
    LANDING_IOT_PREFIX,
    landing_iot_prefix,
    landing_manifest_key,
    landing_slot_start,
    partition_date,
)
from cityplatform.objectstore import BRONZE, LANDING, ObjectInfo, ObjectStore
from cityplatform.sensor_kinds import MAX_LATENESS, SENSOR_KINDS


def carries_previous_day(slot_start: datetime, max_lateness: timedelta = MAX_LATENESS) -> bool:
    """Whether a slot may still deliver readings of the day before its own on time: it starts less
    than ``max_lateness`` after its local midnight (as instants, so a clock change counts right)."""
    midnight = datetime.combine(slot_start.date(), time(), tzinfo=slot_start.tzinfo)
    return slot_start.astimezone(UTC) - midnight.astimezone(UTC) < max_lateness


def ingested_days(key: str, tz: tzinfo) -> list[date]:
    """The days whose ingestion reads a landing IoT object: the day of its folder, and the day before
    too when the object is one of the first slots (:func:`carries_previous_day`)."""
    day = partition_date(key)
    if day is None:
        return []
    slot = landing_slot_start(key, tz)
    if slot is not None and slot.date() == day and carries_previous_day(slot):
        return [day - timedelta(days=1), day]
    return [day]


def unknown_kind_folders(store: ObjectStore) -> list[str]:
    """Folders directly under ``landing/iot/`` that are no sensor kind (one delimited listing)."""
    listing = store.client.list_objects(LANDING, prefix=LANDING_IOT_PREFIX)
    folders = (
        (o.object_name or "").removeprefix(LANDING_IOT_PREFIX).removesuffix("/") for o in listing if o.is_dir
    )
    return sorted(f for f in folders if f not in SENSOR_KINDS)


@dataclass
class LandingManifest:
    day: date
    # sensor kind (or a folder that is none, which ingestion quarantines) -> objects
    objects: dict[str, list[ObjectInfo]] = field(default_factory=dict)

    @classmethod
    def from_listing(cls, store: ObjectStore, day: date, tz: tzinfo) -> LandingManifest:
        """The day's objects, then the next day's objects that may carry the day's late readings
        (``tz``: the city's zone, in which slot names are written), then the day's objects in
        folders that are no sensor kind."""
        next_day = day + timedelta(days=1)

        def listing(kind: str) -> list[ObjectInfo]:
            late = [
                o
                for o in store.list_objects(LANDING, landing_iot_prefix(kind, next_day))
                if day in ingested_days(o.key, tz)
            ]
            return list(store.list_objects(LANDING, landing_iot_prefix(kind, day))) + late

        objects = {kind: listing(kind) for kind in SENSOR_KINDS}
        for folder in unknown_kind_folders(store):
            if stray := list(store.list_objects(LANDING, landing_iot_prefix(folder, day))):
                objects[folder] = stray
        return cls(day, objects)

    @property
    def object_count(self) -> int:
        return sum(len(objs) for objs in self.objects.values())

    @property
    def total_bytes(self) -> int:
        return sum(o.size for objs in self.objects.values() for o in objs)

    @property
    def fingerprint(self) -> str:
        """Digest of every key and etag: equal fingerprints mean identical landing content."""
        pairs = sorted(f"{o.key}@{o.etag}" for objs in self.objects.values() for o in objs)
        return hashlib.sha256("\n".join(pairs).encode()).hexdigest()[:16]

    def to_json(self) -> bytes:
        body = {
            "day": self.day.isoformat(),
            "fingerprint": self.fingerprint,
            "objects": {
                kind: [{k: v for k, v in asdict(o).items() if k != "last_modified"} for o in objs]
                for kind, objs in self.objects.items()
            },
        }
        return json.dumps(body, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> LandingManifest:
        body = json.loads(data)
        objects = {kind: [ObjectInfo(**o) for o in objs] for kind, objs in body["objects"].items()}
        return cls(date.fromisoformat(body["day"]), objects)

    def save(self, store: ObjectStore) -> ObjectInfo:
        return store.put_bytes(BRONZE, landing_manifest_key(self.day), self.to_json(), "application/json")

    @classmethod
    def load(cls, store: ObjectStore, day: date) -> LandingManifest | None:
        if store.stat(BRONZE, landing_manifest_key(day)) is None:
            return None
        return cls.from_json(store.get_bytes(BRONZE, landing_manifest_key(day)))

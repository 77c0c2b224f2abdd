"""The landing manifest: which objects (key and etag) make up one day of IoT readings.

Bronze is built from the manifest, not from a fresh listing, so a run ingests exactly the
snapshot it was asked for, and a re-delivered object with the same etag changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date

from cityplatform.layout import landing_iot_prefix, landing_manifest_key
from cityplatform.objectstore import BRONZE, LANDING, ObjectInfo, ObjectStore
from cityplatform.sensor_kinds import SENSOR_KINDS


@dataclass
class LandingManifest:
    day: date
    objects: dict[str, list[ObjectInfo]] = field(default_factory=dict)  # kind -> objects

    @classmethod
    def from_listing(cls, store: ObjectStore, day: date) -> LandingManifest:
        return cls(
            day,
            {kind: list(store.list_objects(LANDING, landing_iot_prefix(kind, day))) for kind in SENSOR_KINDS},
        )

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

"""Incident records in the ``governance`` bucket, one writer per object.

- ``incidents/open/<id>.json``: an open incident, written by the sensor only;
- ``incidents/closed/<id>.json``: the same record once closed (written, then the open one removed;
  should a pass stop between the two, readers take the closed one);
- ``incidents/acks/<id>.json``: an acknowledgement, written by ``city incidents ack`` only.

The acknowledgement is an object of its own, not a field the command would write into the record:
the sensor rewrites a record on every notice, and two writers of one object would lose each
other's update.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import urllib3
from minio.error import S3Error

from cityplatform.objectstore import GOVERNANCE, ObjectInfo, ObjectStore, ObjectStoreError
from governance.incidents.model import INCIDENT_ID, Acknowledgement, Incident

PREFIX = "incidents/"
OPEN, CLOSED, ACKS = f"{PREFIX}open/", f"{PREFIX}closed/", f"{PREFIX}acks/"


class UnknownIncident(LookupError):
    """No incident has this id."""


class IncidentStore:
    def __init__(self, store: ObjectStore, bucket: str = GOVERNANCE) -> None:
        self.store = store
        self.bucket = bucket

    def uri(self, key: str = PREFIX) -> str:
        return f"s3://{self.bucket}/{key}"

    @contextmanager
    def _s3(self) -> Iterator[None]:
        """S3 failures as one-line ObjectStoreErrors naming the incidents' location."""
        try:
            yield
        except S3Error as exc:
            raise ObjectStoreError(f"incidents at {self.uri()}: S3 answered {exc.code}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ObjectStoreError(f"incidents at {self.uri()}: {self.store.unreachable(exc)}") from exc

    def _ids(self, prefix: str) -> set[str]:
        if not self.store.client.bucket_exists(self.bucket):
            return set()
        return {
            o.key[len(prefix) :].removesuffix(".json") for o in self.store.list_objects(self.bucket, prefix)
        }

    def _object(self, prefix: str, incident_id: str) -> ObjectInfo:
        return ObjectInfo(self.bucket, f"{prefix}{incident_id}.json", etag="", size=0)

    def _load(self, prefix: str, ids: Iterable[str]) -> list[Incident]:
        """The incidents ``ids`` under ``prefix``, with their acknowledgements, oldest first."""
        ids = sorted(ids)
        blobs = self.store.get_many(self._object(prefix, i) for i in ids)
        ack_blobs = self.store.get_many(self._object(ACKS, i) for i in sorted(self._ids(ACKS) & set(ids)))
        acks = {a.incident: a for a in map(Acknowledgement.model_validate_json, ack_blobs)}
        incidents = [
            Incident.model_validate_json(blob).model_copy(update={"acknowledged": acks.get(i)})
            for i, blob in zip(ids, blobs, strict=True)
        ]
        return sorted(incidents, key=lambda incident: incident.opened_at)

    def open_incidents(self) -> list[Incident]:
        """Open incidents, oldest first, with their acknowledgements."""
        with self._s3():
            opened = self._ids(OPEN)
            closed = {i for i in opened if self.store.stat(self.bucket, f"{CLOSED}{i}.json")}
            return self._load(OPEN, opened - closed)

    def all_incidents(self) -> list[Incident]:
        """Open and closed, oldest first."""
        with self._s3():
            closed = self._ids(CLOSED)
            return sorted(
                self._load(OPEN, self._ids(OPEN) - closed) + self._load(CLOSED, closed),
                key=lambda incident: incident.opened_at,
            )

    def get(self, incident_id: str) -> Incident:
        """One incident, open or closed; UnknownIncident when there is none."""
        if not INCIDENT_ID.fullmatch(incident_id):
            raise UnknownIncident(f"{incident_id!r} is not an incident id (inc-YYYYMMDD-xxxxxx)")
        with self._s3():
            if self.store.client.bucket_exists(self.bucket):
                for prefix in (CLOSED, OPEN):
                    if self.store.stat(self.bucket, f"{prefix}{incident_id}.json"):
                        return self._load(prefix, [incident_id])[0]
        raise UnknownIncident(f"no incident {incident_id} in {self.uri()}")

    def _put(self, key: str, document: bytes) -> None:
        with self._s3():
            self.store.ensure_buckets([self.bucket])
            self.store.put_bytes(self.bucket, key, document, "application/json")

    def save(self, incident: Incident) -> None:
        """Write an open incident (the sensor's record of it)."""
        self._put(f"{OPEN}{incident.id}.json", _document(incident))

    def close(self, incident: Incident) -> None:
        self._put(f"{CLOSED}{incident.id}.json", _document(incident))
        with self._s3():
            self.store.delete_keys(self.bucket, [f"{OPEN}{incident.id}.json"])

    def acknowledge(self, acknowledgement: Acknowledgement) -> None:
        self._put(
            f"{ACKS}{acknowledgement.incident}.json", acknowledgement.model_dump_json(indent=1).encode()
        )


def _document(incident: Incident) -> bytes:
    return incident.model_dump_json(indent=1, exclude={"acknowledged"}).encode()

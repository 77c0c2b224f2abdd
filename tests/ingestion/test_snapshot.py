"""The landing manifest's promise against the real S3 server: ingestion reads each object at the
etag its manifest recorded, and an object overwritten since is quarantined as
``changed_since_manifest``, none of its new content ingested."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cityplatform.layout import landing_iot_key
from cityplatform.objectstore import LANDING, ObjectChanged, ObjectStore
from ingestion.day import ingest_manifest
from ingestion.landing import LandingManifest

SEOUL = ZoneInfo("Asia/Seoul")
DAY = date(2031, 8, 14)  # this module's own day on the shared server
KNOWN = ["AQ-0001", "AQ-0002"]


def body(at: datetime, sensors: list[str]) -> bytes:
    lines = [
        {"sensor_id": s, "kind": "air_quality", "observed_at": at.isoformat()}
        | {"pm10": 40.0, "pm25": 20.0, "no2": 0.02, "o3": 0.03}
        for s in sensors
    ]
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def test_an_object_overwritten_after_its_manifest_is_quarantined_not_ingested(store: ObjectStore) -> None:
    kept_at, changed_at = (datetime(2031, 8, 14, 9, 0, tzinfo=SEOUL) + timedelta(minutes=m) for m in (0, 5))
    kept, changed = landing_iot_key("air_quality", kept_at), landing_iot_key("air_quality", changed_at)
    store.put_bytes(LANDING, kept, body(kept_at, ["AQ-0001"]))
    store.put_bytes(LANDING, changed, body(changed_at, ["AQ-0001"]))
    manifest = LandingManifest.from_listing(store, DAY, SEOUL)
    manifest.save(store)
    listed = next(o for o in manifest.objects["air_quality"] if o.key == changed)
    assert store.get_pinned(listed) == body(changed_at, ["AQ-0001"])
    # overwritten after the snapshot: one more line, the content the manifest never saw
    store.put_bytes(LANDING, changed, body(changed_at, ["AQ-0001", "AQ-0002"]))
    with pytest.raises(ObjectChanged, match=changed):
        store.get_pinned(listed)

    ingest = ingest_manifest(
        store, LandingManifest.load(store, DAY) or manifest, known_sensors=KNOWN, tz=SEOUL
    )
    quarantine = ingest.publication.read_quarantine(store)
    (row,) = quarantine.filter(quarantine["reason"] == "changed_since_manifest").iter_rows(named=True)
    assert row["source_file"] == changed and "changed since its manifest" in row["detail"]
    bronze = ingest.publication.read_bronze(store, "air_quality")
    assert bronze["source_file"].to_list() == [kept]  # nothing of the changed object, old or new
    assert ingest.reconciles

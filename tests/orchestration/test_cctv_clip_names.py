"""Clip names through the CCTV landing sensor against a real S3 server: a vendor's name that the camera
registry declares becomes the platform's clip partition; a name nothing accepts is quarantined with a
record saying why, never skipped. The sensor decodes nothing, so the objects need not be videos."""

from __future__ import annotations

import json
from datetime import datetime

import dagster as dg
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from cityplatform.layout import ClipName
from cityplatform.objectstore import LANDING, QUARANTINE, ObjectStore
from cityplatform.settings import load_settings
from orchestration.defs.cctv.clips import camera_registry, find_clip
from tests.orchestration.sensors import tick_sensor

pytestmark = [pytest.mark.integration, pytest.mark.own_s3]

VENDOR = "cctv/cam-02/CH02_20261205_150000.mp4"  # cam-02's NVR, clock on UTC
OWN = "cctv/cam-01/date=2026-12-05/cam-01_20261205T151500.avi"
UNKNOWN = {  # key -> what the record must say was expected
    "cctv/cam-02/CH03_20261205_150000.mp4": "CH02_{start:%Y%m%d_%H%M%S}",
    "cctv/cam-03/holiday.mp4": "<camera>_YYYYMMDDTHHMMSS",
    "cctv/cam-01/holiday.mp4": "<camera>_YYYYMMDDTHHMMSS",  # same file name, another folder
}


@pytest.fixture(scope="module")
def sensor_result(
    store: ObjectStore, definitions: dg.Definitions, instance: dg.DagsterInstance
) -> dg.SensorResult:
    for key in [VENDOR, OWN, *UNKNOWN]:
        store.put_bytes(LANDING, key, key.encode())
    return tick_sensor(definitions, instance, "cctv_landing_sensor")


def test_a_vendor_named_clip_becomes_the_platform_s_partition(
    sensor_result: dg.SensorResult, store: ObjectStore
) -> None:
    zone = load_settings().zone
    vendor = ClipName("cam-02", datetime.fromisoformat("2026-12-05T15:00:00+00:00").astimezone(zone))
    added = {k for r in sensor_result.dynamic_partitions_requests for k in r.partition_keys or []}
    assert added == {vendor.format(), "cam-01_20261205T151500"}
    (batch,) = sensor_result.run_requests  # both new clips in one run: a range of clip partitions
    assert (batch.tags[ASSET_PARTITION_RANGE_START_TAG], batch.tags[ASSET_PARTITION_RANGE_END_TAG]) == (
        min(added),
        max(added),
    )
    found = find_clip(store, vendor, camera_registry())  # what the clip's runs read
    assert found is not None and found.key == VENDOR


def test_a_name_no_pattern_accepts_is_quarantined_with_the_reason(
    sensor_result: dg.SensorResult, store: ObjectStore
) -> None:
    records = {}
    for key, expected in UNKNOWN.items():
        record_key = f"cctv/unplaced/{key.removeprefix('cctv/')}.reason.json"
        record = json.loads(store.get_bytes(QUARANTINE, record_key))
        assert (record["source"], record["reason"]) == (f"s3://{LANDING}/{key}", "unknown-name")
        assert expected in record["detail"]
        records[record_key] = record
    assert len(records) == len(UNKNOWN)  # one record each, even for two objects of one file name
    assert store.stat(LANDING, next(iter(UNKNOWN))) is not None  # the object itself stays in landing

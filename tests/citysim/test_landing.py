"""Landing layout: key names, registry CSVs, and a real write to the S3 server and back.

The write replaces landing's one registry, so it goes to an S3 server of the module's own.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest

from cityplatform.layout import landing_iot_key, landing_iot_prefix
from cityplatform.objectstore import LANDING, ObjectStore
from cityplatform.sensor_kinds import SENSOR_KINDS
from cityplatform.settings import load_settings
from citysim import City, build_city, build_iot_day, registry_objects, write_iot_day

pytestmark = pytest.mark.own_s3


@pytest.fixture(scope="module")
def small_city() -> City:
    return build_city(seed=42, sensors=20)


def _rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


def test_keys_name_kind_local_date_and_slot_start() -> None:
    slot = datetime(2026, 11, 24, 8, 5, tzinfo=load_settings().zone)
    assert (
        landing_iot_key("air_quality", slot)
        == "iot/air_quality/date=2026-11-24/air_quality_20261124T0805.jsonl"
    )


def test_registry_tables_describe_the_city(small_city: City) -> None:
    objects = registry_objects(small_city)
    assert set(objects) == {
        "registry/sensors.csv",
        "registry/districts.csv",
        "registry/road_segments.csv",
        "registry/river_gauges.csv",
    }
    sensors = _rows(objects["registry/sensors.csv"])
    header = ["sensor_id", "kind", "district_id", "segment_id", "lat", "lon", "installed_date"]
    assert list(sensors[0]) == header
    assert [row["sensor_id"] for row in sensors] == [s.sensor_id for s in small_city.sensors]
    assert all((row["segment_id"] == "") == (row["kind"] != "traffic") for row in sensors)
    assert date.fromisoformat(sensors[0]["installed_date"]) == small_city.sensors[0].installed_date
    districts = _rows(objects["registry/districts.csv"])
    assert {"district_id", "zone_type", "noise_limit_day_db", "noise_limit_night_db"} <= set(districts[0])
    assert len(districts) == len(small_city.districts)
    gauges = _rows(objects["registry/river_gauges.csv"])
    assert {"attention_level_m", "warning_level_m", "alarm_level_m"} <= set(gauges[0])
    assert len(_rows(objects["registry/road_segments.csv"])) == len(small_city.road_segments)


@pytest.mark.integration
def test_a_written_day_lists_back_byte_for_byte(store: ObjectStore, small_city: City) -> None:
    day = date(2031, 1, 15)
    tz = load_settings().zone
    truth = write_iot_day(store, small_city, day, tz=tz, seed=42, fault_rate=0.01)
    expected = build_iot_day(small_city, day, tz=tz, seed=42, fault_rate=0.01)
    assert truth == expected.truth
    listed = {
        o.key: o.size
        for kind in SENSOR_KINDS
        for o in store.list_objects(LANDING, landing_iot_prefix(kind, day))
    }
    assert listed == {key: len(data) for key, data in expected.objects.items()}
    for fault in truth.faults[:: max(1, len(truth.faults) // 10)]:
        assert store.get_bytes(LANDING, fault.key) == expected.objects[fault.key]
    for key, data in registry_objects(small_city).items():
        assert store.get_bytes(LANDING, key) == data

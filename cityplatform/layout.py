"""Where each dataset lives in object storage: the one place that knows bucket keys."""

from __future__ import annotations

import re
from datetime import date, datetime

_DATE_PART = re.compile(r"(?:^|/)date=(\d{4}-\d{2}-\d{2})/")

LANDING_IOT_PREFIX = "iot/"
LANDING_REGISTRY_PREFIX = "registry/"
REGISTRY_TABLES = ("sensors", "districts", "road_segments", "river_gauges")


def landing_iot_prefix(kind: str, day: date) -> str:
    return f"{LANDING_IOT_PREFIX}{kind}/date={day.isoformat()}/"


def landing_iot_key(kind: str, slot_start: datetime) -> str:
    """One JSON-lines object per sensor kind per 5-minute slot (slot start in local time)."""
    return f"{landing_iot_prefix(kind, slot_start.date())}{kind}_{slot_start:%Y%m%dT%H%M}.jsonl"


def landing_registry_key(table: str) -> str:
    return f"{LANDING_REGISTRY_PREFIX}{table}.csv"


def partition_date(key: str) -> date | None:
    """The ``date=YYYY-MM-DD`` partition a key belongs to, if any."""
    match = _DATE_PART.search(key)
    return date.fromisoformat(match.group(1)) if match else None


def bronze_readings_key(kind: str, day: date) -> str:
    return f"iot/readings/kind={kind}/date={day.isoformat()}/readings.parquet"


def bronze_registry_key(table: str) -> str:
    return f"iot/registry/{table}.parquet"


def landing_manifest_key(day: date) -> str:
    return f"iot/landing_manifests/date={day.isoformat()}/manifest.json"


def quarantine_readings_key(day: date) -> str:
    return f"iot/readings/date={day.isoformat()}/quarantine.parquet"

"""Where each dataset lives in object storage: the one place that knows bucket keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote, unquote

_DATE_PART = re.compile(r"(?:^|/)date=(\d{4}-\d{2}-\d{2})/")

LANDING_IOT_PREFIX = "iot/"
LANDING_REGISTRY_PREFIX = "registry/"
REGISTRY_TABLES = ("sensors", "districts", "road_segments", "river_gauges")
LINEAGE_EVENTS_PREFIX = "events/"
_LINEAGE_EVENT = re.compile(
    r"^events/date=\d{4}-\d{2}-\d{2}/(?P<namespace>[^/]+)/(?P<job>[^/]+)/"
    r"(?P<stamp>\d{8}T\d{12}Z)-(?P<run_id>[0-9a-f-]{36})-(?P<event_type>[A-Z]+)\.json$"
)


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


def contract_failures_key(asset: str, partition: str) -> str:
    """Evidence of a failed contract check: Pandera's failure cases of one asset partition."""
    return f"contract-failures/{asset}/{partition}.parquet"


@dataclass(frozen=True)
class LineageEventKey:
    """What an archived lineage event's key says about it, so readers can pick events before fetching."""

    job_namespace: str
    job_name: str
    stamp: str  # UTC, sortable: YYYYMMDDTHHMMSSffffffZ
    run_id: str
    event_type: str


def lineage_event_key(
    event_time: datetime, job_namespace: str, job_name: str, run_id: str, event_type: str
) -> str:
    """One object per run event (never rewritten), grouped by UTC day and job."""
    utc = event_time.astimezone(UTC)
    return (
        f"{LINEAGE_EVENTS_PREFIX}date={utc.date().isoformat()}/{quote(job_namespace, safe='')}/"
        f"{quote(job_name, safe='')}/{utc:%Y%m%dT%H%M%S%f}Z-{run_id}-{event_type}.json"
    )


def parse_lineage_event_key(key: str) -> LineageEventKey | None:
    """The parts of a key written by :func:`lineage_event_key`; ``None`` for anything else."""
    match = _LINEAGE_EVENT.match(key)
    if match is None:
        return None
    return LineageEventKey(
        unquote(match["namespace"]),
        unquote(match["job"]),
        match["stamp"],
        match["run_id"],
        match["event_type"],
    )


def mart_export_key(mart: str, day: date) -> str:
    """A mart's rows of one local day, in its department's bucket (``marts-<department>``)."""
    return f"{mart}/date={day.isoformat()}/{mart}.parquet"

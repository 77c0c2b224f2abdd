"""Where each dataset lives in object storage: the one place that knows bucket keys and file names.

Local-time parts of keys (``date=``, ``hour=``, slot and clip stamps) are in the city's zone,
:attr:`cityplatform.settings.Settings.zone`, which callers pass in; nothing here assumes one.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from urllib.parse import quote, unquote

_DATE_PART = re.compile(r"(?:^|/)date=(\d{4}-\d{2}-\d{2})/")
_GENERATION = "gen="
# A landing IoT object's name ends with the local start of the 5-minute slot that delivered it.
_LANDING_SLOT = re.compile(r"_(\d{8}T\d{4})\.jsonl$")
_SLOT_FORMAT = "%Y%m%dT%H%M"

LANDING_IOT_PREFIX = "iot/"
IOT_READINGS_PREFIX = "iot/readings/"  # bronze readings (kind=) and quarantined lines (date=)
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
    return f"{landing_iot_prefix(kind, slot_start.date())}{kind}_{slot_start:{_SLOT_FORMAT}}.jsonl"


def landing_slot_start(key: str, tz: tzinfo) -> datetime | None:
    """The start of the slot that delivered a landing IoT object (named by :func:`landing_iot_key`),
    in the city's zone ``tz``; ``None`` for a name that does not say."""
    match = _LANDING_SLOT.search(key)
    if match is None:
        return None
    try:
        return datetime.strptime(match.group(1), _SLOT_FORMAT).replace(tzinfo=tz)
    except ValueError:
        return None


def landing_registry_key(table: str) -> str:
    return f"{LANDING_REGISTRY_PREFIX}{table}.csv"


def partition_date(key: str) -> date | None:
    """The ``date=YYYY-MM-DD`` partition a key belongs to, if any."""
    match = _DATE_PART.search(key)
    return date.fromisoformat(match.group(1)) if match else None


def new_generation() -> str:
    """A generation id for one run's writes (``gen=<id>`` in their keys): sorts by when the run
    started (UTC), unique across concurrent runs. Readers see a generation once a publication names
    it (a day of IoT readings: ``ingestion.publication``; a clip's outputs: ``vision_jobs.publication``)."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(3)}"


def generation_of(key: str) -> str | None:
    """The generation a key was written under (a folder ``gen=<G>/``, or a generation's publication
    ``gen=<G>.json``), if any."""
    for part in key.split("/"):
        if part.startswith(_GENERATION):
            return part.removeprefix(_GENERATION).split(".", 1)[0]
    return None


def bronze_readings_folder(kind: str, day: date) -> str:
    """Every generation of one kind's bronze readings of one day."""
    return f"{IOT_READINGS_PREFIX}kind={kind}/date={day.isoformat()}/"


def bronze_readings_key(kind: str, day: date, generation: str) -> str:
    """One kind's bronze readings of one day as one ingestion run wrote them: each run writes a
    generation of its own, which readers see only once the day's publication names it."""
    return f"{bronze_readings_folder(kind, day)}{_GENERATION}{generation}/readings.parquet"


def readings_publication_key(day: date) -> str:
    """The day's publication (bronze bucket): which generation's files readers read, written last."""
    return f"{IOT_READINGS_PREFIX}date={day.isoformat()}/publication.json"


def bronze_registry_key(table: str) -> str:
    return f"iot/registry/{table}.parquet"


def landing_manifest_key(day: date) -> str:
    return f"iot/landing_manifests/date={day.isoformat()}/manifest.json"


def ingest_state_folder(day: date) -> str:
    return f"iot/ingest_state/date={day.isoformat()}/"


def ingest_state_key(day: date, generation: str, name: str) -> str:
    """What a day's IoT ingestion leaves for its next delivery to go on from (bronze bucket, outside
    the readings prefix), one generation per run like the readings themselves."""
    return f"{ingest_state_folder(day)}{_GENERATION}{generation}/{name}"


def quarantine_readings_folder(day: date) -> str:
    return f"{IOT_READINGS_PREFIX}date={day.isoformat()}/"


def quarantine_readings_key(day: date, generation: str) -> str:
    return f"{quarantine_readings_folder(day)}{_GENERATION}{generation}/quarantine.parquet"


CONTRACT_FAILURES_PREFIX = "contract-failures/"  # in the quarantine bucket


def contract_failures_prefix(asset: str) -> str:
    """Every failure-case object of one asset: kept for that asset's retention period."""
    return f"{CONTRACT_FAILURES_PREFIX}{asset}/"


def contract_failures_key(asset: str, day: date, partition: str) -> str:
    """Evidence of a failed contract check: Pandera's failure cases of one asset partition, under the
    local day of the rows it copies (``date=``), so retention ages the copies as it ages the rows."""
    return f"{contract_failures_prefix(asset)}date={day.isoformat()}/{partition}.parquet"


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
    """A mart's rows of one local day, in its department's bucket (``marts-<bucket_suffix>``)."""
    return f"{mart}/date={day.isoformat()}/{mart}.parquet"


def mart_status_key(mart: str) -> str:
    """Beside a mart's days in its department's bucket: its last publication and checks, or why
    the latest run did not publish it (``orchestration.defs.marts.status``)."""
    return f"{mart}/status.json"


# A department's report (charts of its marts) lives beside the exports in its bucket; no mart is
# called ``reports``, so the prefix is the report's alone.
DEPARTMENT_REPORTS_PREFIX = "reports/"
DEPARTMENT_REPORT_LATEST_KEY = f"{DEPARTMENT_REPORTS_PREFIX}latest.html"


def department_report_key(day: date) -> str:
    """A department's report of one local day; :func:`partition_date` reads the day back."""
    return f"{DEPARTMENT_REPORTS_PREFIX}date={day.isoformat()}/report.html"


# CCTV: clips land as ``cctv/<camera>/date=<day>/<clip name>.<ext>`` (a rejected clip keeps that key
# in quarantine); the vision job's tables are ``cctv/<table>/date=<day>/camera=<id>/hour=<hh>/``,
# date first so that a build of some days lists only their objects, however many cameras and years;
# below that, a folder per clip with a generation per run, which readers see once it is published
# (``cctv/publications/``, same partitions and clip folders, one object per generation).
CCTV_TABLES = ("detections", "counts", "coverage", "occupancy")  # the vision job's parquet tables
CLIP_EVIDENCE = "evidence"  # the vision job's blurred frames, beside its tables
CLIP_PUBLICATIONS = "publications"  # each analysed clip's publication, beside its tables
CCTV_PREFIX = "cctv/"  # every CCTV object, in landing, bronze and quarantine alike
LANDING_CCTV_TRUTH_PREFIX = "cctv-truth/"  # the simulator's ground truth, outside what the job reads
_CLIP_STAMP = "%Y%m%dT%H%M%S"
_CAMERA_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_CLIP_NAME = re.compile(rf"^(?P<camera>{_CAMERA_ID.pattern})_(?P<start>\d{{8}}T\d{{6}})$")


class BadClipName(ValueError):
    """A file name that does not say which camera recorded the clip and when it started."""


@dataclass(frozen=True)
class ClipName:
    """A clip's file name without suffix, ``<camera>_<YYYYMMDDTHHMMSS>``, which is also its Dagster
    partition key: the camera and the clip's start in the city's local time (``start``'s own zone).

    The stamp carries no UTC offset, so in the hour repeated when clocks go back a name reads as the
    first of its two instants.
    """

    camera_id: str
    start: datetime

    def __post_init__(self) -> None:
        if _CAMERA_ID.fullmatch(self.camera_id) is None:
            raise BadClipName(f"camera id {self.camera_id!r} must be lower-case letters, digits and '-'")
        if self.start.utcoffset() is None:
            raise BadClipName(f"clip start {self.start} has no time zone: the name would be ambiguous")

    def format(self) -> str:
        return f"{self.camera_id}_{self.start:{_CLIP_STAMP}}"

    @classmethod
    def parse(cls, name: str, tz: tzinfo) -> ClipName:
        """Read a name written by :meth:`format`, its stamp in the city's zone ``tz``."""
        match = _CLIP_NAME.match(name)
        if match is None:
            raise BadClipName(f"a clip's file name is <camera>_YYYYMMDDTHHMMSS.<ext>, got {name!r}")
        try:
            start = datetime.strptime(match["start"], _CLIP_STAMP)
        except ValueError:
            raise BadClipName(f"{match['start']!r} in {name!r} is not a valid clip start time") from None
        return cls(match["camera"], start.replace(tzinfo=tz))


def landing_cctv_prefix(camera_id: str, day: date) -> str:
    """A camera's clips of one local day."""
    return f"{CCTV_PREFIX}{camera_id}/date={day.isoformat()}/"


def landing_clip_key(name: ClipName, suffix: str) -> str:
    """Where a camera drops a clip (``suffix`` with its dot, or ``"."`` to list every container)."""
    return f"{landing_cctv_prefix(name.camera_id, name.start.date())}{name.format()}{suffix}"


def landing_clip_truth_key(name: ClipName, suffix: str) -> str:
    """The simulator's ground truth of a landed clip: its landing key under ``cctv-truth/``."""
    return LANDING_CCTV_TRUTH_PREFIX + landing_clip_key(name, suffix).removeprefix(CCTV_PREFIX)


def unplaced_clip_key(landing_key: str) -> str:
    """A rejected clip whose key names no camera or start: quarantined under its whole landing key,
    so two such objects of the same file name in different folders never overwrite each other."""
    return f"{CCTV_PREFIX}unplaced/{landing_key.removeprefix(CCTV_PREFIX)}"


def quarantine_record_key(quarantined_key: str) -> str:
    """Why a clip was quarantined: a JSON record beside its quarantined copy."""
    return f"{quarantined_key}.reason.json"


def bronze_cctv_prefix(table: str, day: date | None = None) -> str:
    """A table of the vision job (``detections``, ``counts``, ``occupancy``, ``evidence``), or one
    local day of it."""
    prefix = f"{CCTV_PREFIX}{table}/"
    return prefix if day is None else f"{prefix}date={day.isoformat()}/"


def bronze_clip_folder(table: str, name: ClipName, camera_id: str | None = None) -> str:
    """Every generation of a clip's output in ``table``, by the local date and hour of its start and
    its camera (``camera_id`` when the clip was analysed as another camera than its name says)."""
    camera = camera_id or name.camera_id
    return (
        f"{bronze_cctv_prefix(table, name.start.date())}camera={camera}/hour={name.start:%H}/{name.format()}/"
    )


def bronze_clip_key(
    table: str, name: ClipName, generation: str, file: str | None = None, camera_id: str | None = None
) -> str:
    """A clip's output in ``table`` as one run wrote it: ``file`` (the table's parquet, named after
    the clip, unless another is given: an evidence frame) in the run's generation."""
    folder = bronze_clip_folder(table, name, camera_id)
    return f"{folder}{_GENERATION}{generation}/{file or name.format() + '.parquet'}"


def clip_publication_key(name: ClipName, generation: str, camera_id: str | None = None) -> str:
    """A generation's publication of a clip's outputs (bronze bucket), written after them: readers
    read the clip's newest published generation, found from the keys alone (one listing, however many
    clips). Partitioned like the tables, so a build of some days lists only theirs."""
    return f"{bronze_clip_folder(CLIP_PUBLICATIONS, name, camera_id)}{_GENERATION}{generation}.json"


# Governance records, in the ``governance`` bucket.
SCORECARDS_PREFIX = "scorecards/"
STEWARD_REPORTS_PREFIX = "reports/"
RETENTION_RECORDS_PREFIX = "retention/deletions/"


def scorecards_prefix(department: str) -> str:
    return f"{SCORECARDS_PREFIX}{department}/"


def scorecard_key(department: str, day: date) -> str:
    """A department's scorecard of one day; the keys of a department sort by day."""
    return f"{scorecards_prefix(department)}{day.isoformat()}.json"


def steward_report_rows_key(day: date) -> str:
    """Every dataset's stewardship row of the day's report, as parquet."""
    return f"{STEWARD_REPORTS_PREFIX}{day.isoformat()}/datasets.parquet"


def steward_report_html_key(day: date) -> str:
    return f"{STEWARD_REPORTS_PREFIX}{day.isoformat()}/steward-report.html"


def retention_record_key(day: date, run_id: str) -> str:
    """What one retention run deleted (or planned to), by the local day it ran."""
    return f"{RETENTION_RECORDS_PREFIX}date={day.isoformat()}/{run_id}.parquet"


def retention_warehouse_record_key(day: date, run_id: str) -> str:
    """The warehouse rows one retention run deleted, by table and day, beside its objects' record."""
    return f"{RETENTION_RECORDS_PREFIX}date={day.isoformat()}/{run_id}.warehouse.parquet"

"""Retention: delete what is past its period, record every deletion, and check nothing old is left.

In scope: every asset its domain tags as retained (``orchestration.lib.retention_scope``), found in
the code location's catalogue (the ``code_location`` resource), each at the location its asset
declares (``dagster/uri``) and kept for the registry's ``retention_days`` on its spec. Today: the
raw CCTV clips (``s3://landing/cctv/``) and their derived detections, counts and zone occupancy
(``s3://bronze/cctv/<table>/``); the IoT landing objects, bronze readings and quarantined lines.
Personal data (the clips, and the detections: tracks and positions of people) is kept no longer than
the personal level's ``max_retention_days`` (``classifications.yaml``), which the registry enforces
on load, so the period this asset applies to them is the personal-data period.
Images cut from a clip that no asset declares are kept no longer than the clip itself (the clips
declare them): blurred evidence frames (``s3://bronze/cctv/evidence/``) and quarantined clips
(``s3://quarantine/cctv/``). A deleted clip's Dagster partition is removed with it.

Left out on purpose: the marts (their rows also live in the DuckDB warehouse, which no object
deletion reaches, so their retention belongs with dbt; the first 1825-day expiry is years away);
the sensor registry tables (current state, replaced whole on each load); the landing manifests
(keys and etags only: the record of what a day's ingestion read); and the governance and lineage
records, this asset's own included: they are the audit trail retention is judged by.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath

import dagster as dg
import polars as pl

from cityplatform.layout import RETENTION_RECORDS_PREFIX, retention_record_key
from cityplatform.objectstore import GOVERNANCE, ObjectStore, parquet_bytes
from governance.retention import Expired, Location, past_retention
from orchestration.defs.governance.status import run_date
from orchestration.lib.code_location import CodeLocationCatalog
from orchestration.lib.lineage import DELETED_FROM, LineageResource, emits_lineage
from orchestration.lib.resources import CityStorage
from orchestration.lib.retention_scope import KEPT_WITH, RETAINED, RETENTION_TAG, RETIRES_PARTITIONS

DELETIONS = dg.AssetKey(["governance", "retention", "deletions"])
CHECK_NAME = "nothing_past_retention"
OLDEST_SHOWN = 10

RECORD_SCHEMA: dict[str, pl.DataType] = {
    "dataset": pl.String(),
    "location": pl.String(),
    "bucket": pl.String(),
    "key": pl.String(),
    "version_id": pl.String(),  # every version of an expired key goes, noncurrent ones included
    "bytes": pl.Int64(),
    "partition_date": pl.Date(),  # null: aged by last_modified
    "last_modified": pl.Datetime("us", "UTC"),
    "retention_days": pl.Int64(),
    "deleted_on": pl.Date(),
    "run_id": pl.String(),
    "confirmed": pl.Boolean(),  # false: planned, and the run stopped before S3 confirmed the deletion
}


def retained_specs(code_location: CodeLocationCatalog) -> dict[dg.AssetKey, dg.AssetSpec]:
    """The assets their domains put under retention, by key."""
    return {
        key: spec
        for key, spec in sorted(code_location.specs.items())
        if spec.tags.get(RETENTION_TAG) == RETAINED[RETENTION_TAG]
    }


def retained_locations(code_location: CodeLocationCatalog) -> list[Location]:
    """Where each retained dataset lies (its ``dagster/uri`` and what it keeps with it), with the
    retention period its spec carries from the registry."""
    locations = []
    for key, spec in retained_specs(code_location).items():
        dataset = key.to_user_string()
        if "retention_days" not in spec.metadata:
            raise dg.Failure(f"{dataset} is retained but has no retention_days: is it in ownership.yaml?")
        uris = [str(spec.metadata["dagster/uri"]), *spec.metadata.get(KEPT_WITH, ())]
        locations += [Location(dataset, uri, int(spec.metadata["retention_days"])) for uri in uris]
    return locations


@dataclass(frozen=True)
class Scan:
    on: date  # the city's date the run was created: what ages are counted to
    locations: list[Location]
    expired: list[Expired]  # oldest first


def scan(
    storage: CityStorage, code_location: CodeLocationCatalog, instance: dg.DagsterInstance, run_id: str
) -> Scan:
    """Every version of every object in scope that is past its period on the run date (a versioned
    bucket keeps overwritten and deleted objects as noncurrent versions: those are data too)."""
    store, zone = storage.store(), storage.settings().zone
    on = run_date(instance, run_id, zone)
    locations = retained_locations(code_location)
    listing = (obj for loc in locations for obj in store.list_objects(loc.bucket, loc.prefix, versions=True))
    return Scan(on, locations, past_retention(locations, listing, on, zone))


def deletion_record(
    deleted: Sequence[Expired], on: date, run_id: str, *, confirmed: bool = True
) -> pl.DataFrame:
    rows = [
        {
            "dataset": e.location.dataset,
            "location": e.location.uri,
            "bucket": e.object.bucket,
            "key": e.object.key,
            "version_id": e.object.version_id,
            "bytes": e.object.size,
            "partition_date": e.day if e.partitioned else None,
            "last_modified": e.object.last_modified,
            "retention_days": e.location.retention_days,
            "deleted_on": on,
            "run_id": run_id,
            "confirmed": confirmed,
        }
        for e in deleted
    ]
    return pl.DataFrame(rows, schema=RECORD_SCHEMA)


def delete(store: ObjectStore, expired: Sequence[Expired]) -> tuple[list[Expired], list[str]]:
    """Erase the expired versions, one batch per bucket: (what went, the URIs S3 refused)."""
    refused: set[str] = set()
    for bucket in sorted({e.object.bucket for e in expired}):
        versions = [e.object for e in expired if e.object.bucket == bucket]
        refused |= {f"s3://{bucket}/{key}" for key in store.erase_versions(bucket, versions)}
    return [e for e in expired if e.object.uri not in refused], sorted(refused)


def retire_partitions(
    instance: dg.DagsterInstance, code_location: CodeLocationCatalog, deleted: Sequence[Expired]
) -> list[str]:
    """Remove the dynamic partitions named by deleted objects of the assets that say so (the raw
    clips), so the UI no longer offers runs on missing footage."""
    retired: list[str] = []
    for key, spec in retained_specs(code_location).items():
        if not spec.metadata.get(RETIRES_PARTITIONS):
            continue
        partitions = spec.partitions_def
        if not isinstance(partitions, dg.DynamicPartitionsDefinition) or not partitions.name:
            raise dg.Failure(f"{key.to_user_string()} retires partitions but has no dynamic partitions")
        uri = str(spec.metadata["dagster/uri"])
        named = {PurePosixPath(e.object.key).stem for e in deleted if e.location.uri == uri}
        gone = sorted(named & set(instance.get_dynamic_partitions(partitions.name)))
        for partition in gone:
            instance.delete_dynamic_partition(partitions.name, partition)
        retired += gone
    return retired


@dg.asset(
    key=DELETIONS,
    group_name="governance",
    kinds={"s3", "parquet"},
    description=(
        "Deletes raw CCTV clips, their images and derived tables, and IoT landing, bronze and "
        "quarantine objects once past their registry retention_days (counted from the key's date= "
        "partition, else last modified), every version of them on a versioned bucket, because "
        "personal data may not be kept longer than its period. Every deletion is recorded as "
        "parquet (dataset, key, version, date, period, run id) and sent to lineage as a TRUNCATE of "
        "the dataset it came from; a deleted clip's partition is removed."
    ),
    metadata={
        "dagster/uri": f"s3://{GOVERNANCE}/{RETENTION_RECORDS_PREFIX}",
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(name, str(dtype)) for name, dtype in RECORD_SCHEMA.items()]
        ),
    },
)
@emits_lineage
def retention_deletions(
    context: dg.AssetExecutionContext,
    storage: CityStorage,
    code_location: dg.ResourceParam[CodeLocationCatalog],
) -> dg.MaterializeResult:
    store, run_id = storage.store(), context.run.run_id
    found = scan(storage, code_location, context.instance, run_id)
    key = retention_record_key(found.on, run_id)
    record_uri = f"s3://{GOVERNANCE}/{key}"
    store.ensure_buckets([GOVERNANCE])
    # The plan is recorded before anything goes, so a run cut off midway still leaves a record
    # of every object it may have deleted; the confirmed list then replaces it.
    plan = deletion_record(found.expired, found.on, run_id, confirmed=False)
    store.put_bytes(GOVERNANCE, key, parquet_bytes(plan))
    deleted, refused = delete(store, found.expired)
    store.put_bytes(GOVERNANCE, key, parquet_bytes(deletion_record(deleted, found.on, run_id)))
    deleted_from = {DELETED_FROM: sorted({e.location.uri for e in deleted})}  # lineage: truncated inputs
    retired = retire_partitions(context.instance, code_location, deleted)  # even if S3 refused some
    if refused:
        raise dg.Failure(
            f"S3 refused to delete {len(refused)} expired objects (first: {refused[0]}); "
            f"the {len(deleted)} deleted are recorded in {record_uri}",
            metadata=deleted_from,
        )
    by_dataset = Counter(dataset for dataset, _ in {(e.location.dataset, e.object.uri) for e in deleted})
    context.log.info(f"deleted {len(deleted)} versions past retention; record: {record_uri}")
    return dg.MaterializeResult(
        metadata={
            "objects_deleted": {loc.dataset: by_dataset[loc.dataset] for loc in found.locations},
            "versions_erased": len(deleted),
            "bytes_freed": sum(e.object.size for e in deleted),
            "clip_partitions_retired": len(retired),
            "record": dg.MetadataValue.path(record_uri),
            "evaluated_on": found.on.isoformat(),
            "dagster/row_count": len(deleted),
            **deleted_from,
        }
    )


@dg.asset_check(
    asset=DELETIONS,
    name=CHECK_NAME,
    blocking=True,
    description=(
        "No object in the retained locations, and no noncurrent version of one, is older than its "
        "dataset's retention_days on the run date; fails naming the oldest offenders (a deletion "
        "that did not happen, an old version left behind, or late data)."
    ),
)
def nothing_past_retention(
    context: dg.AssetCheckExecutionContext,
    storage: CityStorage,
    code_location: dg.ResourceParam[CodeLocationCatalog],
    lineage: LineageResource,
) -> dg.AssetCheckResult:
    """Judged in a step of its own, so its lineage run is too (``check_run``)."""
    (result,) = lineage.check_run(
        context, context.check_specs, lambda: [_judge_retention(context, storage, code_location)]
    )
    return result


def _judge_retention(
    context: dg.AssetCheckExecutionContext, storage: CityStorage, code_location: CodeLocationCatalog
) -> dg.AssetCheckResult:
    found = scan(storage, code_location, context.instance, context.run.run_id)
    oldest = found.expired[:OLDEST_SHOWN]
    return dg.AssetCheckResult(
        passed=not found.expired,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"past retention: {len(found.expired)} object(s), the oldest from {oldest[0].day}"
            if oldest
            else "nothing past retention"
        ),
        metadata={
            "evaluated_on": found.on.isoformat(),
            "objects_past_retention": len(found.expired),
            "by_dataset": dict(Counter(e.location.dataset for e in found.expired)),
            "oldest": dg.MetadataValue.md(
                "\n".join(
                    f"- {e.object.uri} ({e.day}, kept {e.location.retention_days} days)" for e in oldest
                )
                or "none"
            ),
        },
    )

"""Retention: delete what is past its period, record every deletion, and check nothing old is left.

In scope: every asset its domain tags as retained (``orchestration.lib.retention_scope``), found in
the code location's catalogue (the ``code_location`` resource), each at the location its asset
declares (``dagster/uri``) and kept for the registry's ``retention_days`` on its spec. Today: the
raw CCTV clips (``s3://landing/cctv/``, including objects the landing sensor could not place, which
stay there with only a quarantine record) and their derived detections, counts, coverage and zone
occupancy (``s3://bronze/cctv/<table>/``); the IoT landing objects, bronze readings and quarantined
lines; each department's published marts (``s3://marts-<suffix>/``: a parquet per mart and day, the
status beside each mart, the reports by day). Each retained asset's contract-failure evidence (``s3://quarantine/contract-failures/<asset>/``,
copies of failing rows, which may be personal) is kept for the asset's own period.
Personal data (the clips, and the detections: tracks and positions of people) is kept no longer than
the personal level's ``max_retention_days`` (``classifications.yaml``), which the registry enforces
on load, so the period this asset applies to them is the personal-data period.
Images cut from a clip that no asset declares are kept no longer than the clip itself (the clips
declare them): blurred evidence frames (``s3://bronze/cctv/evidence/``) and quarantined clips
(``s3://quarantine/cctv/``); so is the simulator's ground truth of a clip
(``s3://landing/cctv-truth/``): test data, but its boxes follow each simulated person frame by
frame, so it is kept as the clip it describes is. A deleted clip's Dagster partition is removed
with it. Every version of an object goes (a versioned bucket keeps overwritten and deleted ones).

Warehouse tables by day: every dbt model with a ``local_date`` column (the day-partitioned
intermediate models and marts, and the staging tables of a run's days) has the rows of its expired
days deleted in the DuckDB warehouse, in one transaction in the warehouse's pool (no dbt build writes
meanwhile), recorded by table and day beside the objects' record. No warehouse table holds personal
columns today (detections never reach it); the marts' period (1825 days) is the registry's.

Left out on purpose: tables without a day (dimensions, snapshots, seeds: current state or history
of the registry, replaced or versioned by dbt); the sensor registry tables
(current state, replaced whole on each load); the landing manifests (keys and etags only: the record
of what a day's ingestion read); and the governance and lineage records, this asset's own included:
they are the audit trail retention is judged by.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath

import dagster as dg
import duckdb
import polars as pl

from cityplatform.layout import (
    RETENTION_RECORDS_PREFIX,
    contract_failures_prefix,
    retention_record_key,
    retention_warehouse_record_key,
)
from cityplatform.objectstore import GOVERNANCE, QUARANTINE, ObjectStore, parquet_bytes
from governance.retention import (
    Expired,
    ExpiredDay,
    Location,
    WarehouseTable,
    oldest_kept,
    past_retention,
)
from orchestration.defs.governance.status import run_date
from orchestration.lib.code_location import CodeLocationCatalog
from orchestration.lib.dbt import WAREHOUSE_POOL
from orchestration.lib.lineage import (
    DELETED_FROM,
    DELETED_FROM_TABLES,
    LINEAGE_DATASETS,
    LineageResource,
    emits_lineage,
)
from orchestration.lib.resources import CityStorage
from orchestration.lib.retention_scope import (
    DAY_COLUMN,
    KEPT_WITH,
    RETAINED,
    RETAINED_BY_DAY,
    RETENTION_TAG,
    RETIRES_PARTITIONS,
)

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
WAREHOUSE_RECORD_SCHEMA: dict[str, pl.DataType] = {
    "dataset": pl.String(),
    "relation": pl.String(),  # database.schema.table
    "day_column": pl.String(),
    "day": pl.Date(),
    "rows": pl.Int64(),
    "retention_days": pl.Int64(),
    "deleted_on": pl.Date(),
    "run_id": pl.String(),
    "confirmed": pl.Boolean(),  # false: planned, and the run stopped before the deletion committed
}


def retained_specs(
    code_location: CodeLocationCatalog, how: dict[str, str] = RETAINED
) -> dict[dg.AssetKey, dg.AssetSpec]:
    """The assets their domains put under retention ``how`` (by object or by day), by key."""
    return {
        key: spec
        for key, spec in sorted(code_location.specs.items())
        if spec.tags.get(RETENTION_TAG) == how[RETENTION_TAG]
    }


def _retention_days(key: dg.AssetKey, spec: dg.AssetSpec) -> int:
    if "retention_days" not in spec.metadata:
        raise dg.Failure(
            f"{key.to_user_string()} is retained but has no retention_days: is it in ownership.yaml?"
        )
    return int(spec.metadata["retention_days"])


def retained_locations(code_location: CodeLocationCatalog) -> list[Location]:
    """Where each retained dataset lies (its ``dagster/uri``, what it keeps with it, and its
    contract-failure evidence), with the retention period its spec carries from the registry."""
    locations = []
    for key, spec in retained_specs(code_location).items():
        dataset = key.to_user_string()
        uris = [
            str(spec.metadata["dagster/uri"]),
            *spec.metadata.get(KEPT_WITH, ()),
            f"s3://{QUARANTINE}/{contract_failures_prefix(dataset)}",
        ]
        locations += [Location(dataset, uri, _retention_days(key, spec)) for uri in uris]
    return locations


def dataset_deleted_from(code_location: CodeLocationCatalog, expired: Expired) -> str:
    """The lineage dataset an expired object belonged to: the one of its asset's datasets holding it
    (a department's mart, ``LINEAGE_DATASETS``), else its location."""
    spec = code_location.specs[dg.AssetKey.from_user_string(expired.location.dataset)]
    holding = (
        str(uri) for uri in spec.metadata.get(LINEAGE_DATASETS, ()) if expired.object.uri.startswith(str(uri))
    )
    return next(holding, expired.location.uri)


def retained_tables(code_location: CodeLocationCatalog) -> list[WarehouseTable]:
    """The warehouse tables whose expired days go, each with its day column and period."""
    return [
        WarehouseTable(
            key.to_user_string(),
            str(spec.metadata["dagster/table_name"]),
            str(spec.metadata[DAY_COLUMN]),
            _retention_days(key, spec),
        )
        for key, spec in retained_specs(code_location, RETAINED_BY_DAY).items()
    ]


def _connect(warehouse: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(warehouse), read_only=read_only)
    except duckdb.IOException as exc:  # another process holds the file (a dbt build outside the pool)
        raise dg.Failure(f"the warehouse {warehouse} cannot be opened for retention: {exc}") from exc


def expired_days(
    con: duckdb.DuckDBPyConnection, tables: Sequence[WarehouseTable], on: date
) -> list[ExpiredDay]:
    """Every day of a table in the warehouse older than its period on ``on``, with its row count,
    oldest first (a table not built yet has none)."""
    built = set(con.execute("select table_schema, table_name from information_schema.tables").fetchall())
    found: list[ExpiredDay] = []
    for table in tables:
        if (table.schema, table.name) not in built:
            continue
        rows = con.execute(
            f'select "{table.day_column}", count(*) from "{table.schema}"."{table.name}" '
            f'where "{table.day_column}" < ? group by all order by 1',
            [oldest_kept(on, table.retention_days)],
        ).fetchall()
        found += [ExpiredDay(table, day, count) for day, count in rows]
    return sorted(found, key=lambda e: (e.day, e.table.relation))


def warehouse_record(
    deleted: Sequence[ExpiredDay], on: date, run_id: str, *, confirmed: bool = True
) -> pl.DataFrame:
    rows = [
        {
            "dataset": e.table.dataset,
            "relation": e.table.relation,
            "day_column": e.table.day_column,
            "day": e.day,
            "rows": e.rows,
            "retention_days": e.table.retention_days,
            "deleted_on": on,
            "run_id": run_id,
            "confirmed": confirmed,
        }
        for e in deleted
    ]
    return pl.DataFrame(rows, schema=WAREHOUSE_RECORD_SCHEMA)


def erase_days(
    store: ObjectStore, warehouse: Path, tables: Sequence[WarehouseTable], on: date, run_id: str
) -> list[ExpiredDay]:
    """Delete the expired days of every table in one transaction, the plan recorded before it and
    what went after it commits (an empty record when nothing had expired or no warehouse exists)."""
    key = retention_warehouse_record_key(on, run_id)
    expired: list[ExpiredDay] = []
    if warehouse.exists():
        with _connect(warehouse, read_only=False) as con:
            expired = expired_days(con, tables, on)
            plan = warehouse_record(expired, on, run_id, confirmed=False)
            store.put_bytes(GOVERNANCE, key, parquet_bytes(plan))
            con.execute("begin transaction")
            for table in sorted({e.table for e in expired}, key=lambda t: t.relation):
                con.execute(
                    f'delete from "{table.schema}"."{table.name}" where "{table.day_column}" < ?',
                    [oldest_kept(on, table.retention_days)],
                )
            con.execute("commit")
    store.put_bytes(GOVERNANCE, key, parquet_bytes(warehouse_record(expired, on, run_id)))
    return expired


@dataclass(frozen=True)
class Scan:
    on: date  # the city's date the run was created: what ages are counted to
    locations: list[Location]
    expired: list[Expired]  # oldest first
    tables: list[WarehouseTable]


def scan(
    storage: CityStorage, code_location: CodeLocationCatalog, instance: dg.DagsterInstance, run_id: str
) -> Scan:
    """Every version of every object in scope that is past its period on the run date (a versioned
    bucket keeps overwritten and deleted objects as noncurrent versions: those are data too)."""
    store, zone = storage.store(), storage.settings().zone
    on = run_date(instance, run_id, zone)
    locations = retained_locations(code_location)
    listing = (obj for loc in locations for obj in store.list_objects(loc.bucket, loc.prefix, versions=True))
    return Scan(on, locations, past_retention(locations, listing, on, zone), retained_tables(code_location))


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
        "Deletes raw CCTV clips (unplaced ones included), their images, simulator truth and derived "
        "tables, IoT landing, bronze and quarantine objects, the departments' published marts, and "
        "each one's contract-failure evidence once past their registry retention_days (counted from "
        "the key's date= partition, else last modified), every version of them on a versioned "
        "bucket, because personal data may not be kept longer than its period; and the rows of "
        "expired days (local_date) of the warehouse's day-partitioned tables. Every deletion is "
        "recorded as parquet (dataset, key, version or table and day, period, run id) and sent to "
        "lineage as a TRUNCATE of the dataset it came from; a deleted clip's partition is removed."
    ),
    metadata={
        "dagster/uri": f"s3://{GOVERNANCE}/{RETENTION_RECORDS_PREFIX}",
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(name, str(dtype)) for name, dtype in RECORD_SCHEMA.items()]
        ),
    },
    pool=WAREHOUSE_POOL,  # deletes warehouse rows: never while a dbt build or an export holds it
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
    days = erase_days(store, storage.settings().warehouse_path, found.tables, found.on, run_id)
    deleted_from = {  # lineage: truncated inputs
        DELETED_FROM: sorted({dataset_deleted_from(code_location, e) for e in deleted}),
        DELETED_FROM_TABLES: sorted({e.table.relation for e in days}),
    }
    retired = retire_partitions(context.instance, code_location, deleted)  # even if S3 refused some
    if refused:
        raise dg.Failure(
            f"S3 refused to delete {len(refused)} expired objects (first: {refused[0]}); "
            f"the {len(deleted)} deleted are recorded in {record_uri}",
            metadata=deleted_from,
        )
    by_dataset = Counter(dataset for dataset, _ in {(e.location.dataset, e.object.uri) for e in deleted})
    rows_by_table = Counter[str]()
    for day in days:
        rows_by_table[day.table.dataset] += day.rows
    context.log.info(
        f"deleted {len(deleted)} versions and {len(days)} warehouse table days past retention; "
        f"record: {record_uri}"
    )
    return dg.MaterializeResult(
        metadata={
            "objects_deleted": {loc.dataset: by_dataset[loc.dataset] for loc in found.locations},
            "versions_erased": len(deleted),
            "bytes_freed": sum(e.object.size for e in deleted),
            "warehouse_days_deleted": len(days),
            "warehouse_rows_deleted": dict(rows_by_table),
            "warehouse_tables_governed": len(found.tables),
            "warehouse_record": dg.MetadataValue.path(
                f"s3://{GOVERNANCE}/{retention_warehouse_record_key(found.on, run_id)}"
            ),
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
    pool=WAREHOUSE_POOL,  # reads the warehouse, which a dbt build elsewhere would hold locked
    description=(
        "No object in the retained locations, no noncurrent version of one, and no day of a "
        "day-partitioned warehouse table is older than its dataset's retention_days on the run "
        "date; fails naming the oldest offenders (a deletion that did not happen, an old version "
        "left behind, or late data)."
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
    warehouse = storage.settings().warehouse_path
    days: list[ExpiredDay] = []
    if warehouse.exists():
        with _connect(warehouse, read_only=True) as con:
            days = expired_days(con, found.tables, found.on)
    shown = [
        (e.day, f"- {e.object.uri} ({e.day}, kept {e.location.retention_days} days)") for e in found.expired
    ]
    shown += [
        (
            e.day,
            f"- {e.table.relation} {e.table.day_column} = {e.day}: {e.rows} rows "
            f"(kept {e.table.retention_days} days)",
        )
        for e in days
    ]
    oldest = sorted(shown)[:OLDEST_SHOWN]
    return dg.AssetCheckResult(
        passed=not oldest,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            f"past retention: {len(found.expired)} object(s) and {len(days)} warehouse table day(s), "
            f"the oldest from {oldest[0][0]}"
            if oldest
            else "nothing past retention"
        ),
        metadata={
            "evaluated_on": found.on.isoformat(),
            "objects_past_retention": len(found.expired),
            "warehouse_days_past_retention": len(days),
            "by_dataset": dict(
                Counter([*(e.location.dataset for e in found.expired), *(e.table.dataset for e in days)])
            ),
            "oldest": dg.MetadataValue.md("\n".join(line for _, line in oldest) or "none"),
        },
    )

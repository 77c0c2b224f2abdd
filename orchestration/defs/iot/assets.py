"""IoT assets: landing snapshot -> validated bronze readings + quarantine, per local day."""

import io
from collections.abc import Iterator
from datetime import date

import dagster as dg
import polars as pl

from cityplatform.layout import (
    IOT_READINGS_PREFIX,
    LANDING_IOT_PREFIX,
    REGISTRY_TABLES,
    bronze_readings_key,
    bronze_registry_key,
    landing_iot_prefix,
    landing_manifest_key,
    landing_registry_key,
    quarantine_readings_key,
)
from cityplatform.objectstore import BRONZE, LANDING, QUARANTINE, parquet_bytes, read_parquet
from cityplatform.sensor_kinds import SENSOR_KINDS
from governance.contracts.iot import reading_schema
from governance.contracts.registry import REGISTRY_SCHEMAS, RegistryContractError, validate_registry
from ingestion.day import ingest_manifest, registered_sensor_ids
from ingestion.iot import QUARANTINE_SCHEMA, bronze_schema
from ingestion.landing import LandingManifest
from orchestration.lib.contracts import contract_check, passed_contract
from orchestration.lib.lineage import emits_lineage
from orchestration.lib.partitions import daily_partitions
from orchestration.lib.resources import CityStorage
from orchestration.lib.retention_scope import RETAINED
from orchestration.lib.retries import STORAGE_RETRY

RAW_READINGS = dg.AssetKey(["iot", "raw", "readings"])
BRONZE_READINGS = dg.AssetKey(["iot", "bronze", "readings"])
QUARANTINE_READINGS = dg.AssetKey(["iot", "quarantine", "readings"])
SENSOR_REGISTRY = dg.AssetKey(["iot", "bronze", "sensor_registry"])
# A run with this tag set to "true" (the landing sensor's) parses only the landing objects the day's
# last ingestion has not; any other run (a re-materialisation, a backfill) ingests the day whole.
INCREMENTAL_TAG = "iot/incremental"


def _column_schema(kind: str) -> dg.TableSchema:
    columns = reading_schema(kind).columns
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name,
                str(dtype),
                description=columns[name].description if name in columns else "provenance",
            )
            for name, dtype in bronze_schema(kind).items()
        ]
    )


@dg.asset(
    key=RAW_READINGS,
    group_name="iot",
    partitions_def=daily_partitions,
    kinds={"s3", "json"},
    description=(
        "The landing snapshot of one day of IoT readings: every JSON-lines object under "
        "`s3://landing/iot/{kind}/date=YYYY-MM-DD/`, and the next day's objects delivered within the "
        "lateness limit after midnight (the day's late readings), with their etags, frozen into a "
        "manifest so bronze ingests exactly this snapshot."
    ),
    tags=RETAINED,
    metadata={"dagster/uri": f"s3://{LANDING}/{LANDING_IOT_PREFIX}"},
    retry_policy=STORAGE_RETRY,
)
@emits_lineage
def raw_readings(context: dg.AssetExecutionContext, storage: CityStorage) -> dg.MaterializeResult:
    manifest = _snapshot(storage, date.fromisoformat(context.partition_key))
    return dg.MaterializeResult(metadata=_snapshot_metadata(manifest))


def _snapshot(storage: CityStorage, day: date) -> LandingManifest:
    """The day's landing objects frozen into its manifest, saved; none is a failure no retry mends."""
    store = storage.store()
    manifest = LandingManifest.from_listing(store, day, storage.settings().zone)
    if manifest.object_count == 0:
        raise dg.Failure(
            f"no landing objects under s3://{LANDING}/{landing_iot_prefix('*', day)}: nothing to ingest",
            allow_retries=False,
        )
    manifest.save(store)
    return manifest


def _snapshot_metadata(manifest: LandingManifest) -> dict[str, object]:
    return {
        "objects": manifest.object_count,
        "bytes": manifest.total_bytes,
        "objects_by_kind": {kind: len(objs) for kind, objs in manifest.objects.items()},
        "fingerprint": manifest.fingerprint,
        "manifest": dg.MetadataValue.path(f"s3://{BRONZE}/{landing_manifest_key(manifest.day)}"),
    }


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            BRONZE_READINGS,
            group_name="iot",
            deps=[RAW_READINGS, SENSOR_REGISTRY],
            kinds={"s3", "parquet", "pandera"},
            description=(
                "Contract-valid 5-minute readings, one parquet per sensor kind and day at "
                "`s3://bronze/iot/readings/kind={kind}/date=YYYY-MM-DD/`. Every row passed the Pandera "
                "contract of its kind; duplicates, late arrivals and unknown sensors are quarantined."
            ),
            tags=RETAINED,
            metadata={
                "dagster/uri": f"s3://{BRONZE}/{IOT_READINGS_PREFIX}",
                **{f"schema/{kind}": _column_schema(kind) for kind in SENSOR_KINDS},
            },
        ),
        dg.AssetSpec(
            QUARANTINE_READINGS,
            group_name="iot",
            deps=[RAW_READINGS],
            kinds={"s3", "parquet"},
            description=(
                "Every landing line that did not reach bronze, with its file, line number, reason "
                "and raw text: nothing is dropped silently."
            ),
            tags=RETAINED,
            metadata={
                "dagster/uri": f"s3://{QUARANTINE}/{IOT_READINGS_PREFIX}",
                "dagster/column_schema": dg.TableSchema(
                    columns=[dg.TableColumn(name, str(dtype)) for name, dtype in QUARANTINE_SCHEMA.items()]
                ),
            },
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "reconciliation",
            asset=BRONZE_READINGS,
            blocking=True,
            description=(
                "Lines in = rows accepted + rows quarantined + lines of another day (the next day's "
                "first slots are read for late readings; their own lines are that day's), per kind."
            ),
        ),
        dg.AssetCheckSpec(
            "contract",
            asset=BRONZE_READINGS,
            blocking=True,
            description="The bronze parquet read back from S3 passes its Pandera contract on every row.",
        ),
    ],
    partitions_def=daily_partitions,
    retry_policy=STORAGE_RETRY,
)
@emits_lineage
def bronze_readings(
    context: dg.AssetExecutionContext, storage: CityStorage
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    store = storage.store()
    day = date.fromisoformat(context.partition_key)
    manifest = LandingManifest.load(store, day) or _snapshot_for(context, storage, day)
    ingest = ingest_manifest(
        store,
        manifest,
        known_sensors=registered_sensor_ids(store),
        tz=storage.settings().zone,
        incremental=context.run.tags.get(INCREMENTAL_TAG) == "true",
    )
    context.log.info(
        f"{day}: {ingest.lines_in} lines, {ingest.accepted} accepted, {ingest.quarantined} quarantined, "
        f"{ingest.other_day} of the next or previous day; {ingest.lines_parsed} lines parsed by this run"
    )
    yield dg.MaterializeResult(
        asset_key=BRONZE_READINGS,
        metadata={
            "rows_in": ingest.lines_in,
            "rows_accepted": ingest.accepted,
            "rows_quarantined": ingest.quarantined,
            "rows_other_day": ingest.other_day,
            "rows_parsed": ingest.lines_parsed,
            "quarantined_by_reason": ingest.reasons,
            "reconciles": ingest.reconciles,
            "rows_by_kind": {k: r.accepted_rows for k, r in ingest.results.items()},
            "bytes": sum(ingest.written[k].info.size for k in SENSOR_KINDS),
            "files": {k: ingest.written[k].metadata() for k in SENSOR_KINDS},
            "dagster/row_count": ingest.accepted,
            "landing_fingerprint": manifest.fingerprint,
        },
    )
    yield dg.MaterializeResult(
        asset_key=QUARANTINE_READINGS,
        metadata={
            "dagster/row_count": ingest.quarantined,
            "by_reason": ingest.reasons,
            "bytes": ingest.written["quarantine"].info.size,
            "files": {"quarantine": ingest.written["quarantine"].metadata()},
            "path": dg.MetadataValue.path(f"s3://{QUARANTINE}/{quarantine_readings_key(day)}"),
        },
    )
    yield dg.AssetCheckResult(
        check_name="reconciliation",
        asset_key=BRONZE_READINGS,
        passed=ingest.reconciles,
        metadata={
            kind: (
                f"{r.lines_in} in = {r.accepted_rows} accepted + {r.quarantined.height} quarantined "
                f"+ {r.other_day} of another day"
            )
            for kind, r in ingest.results.items()
        },
    )
    tables = (
        (reading_schema(k), read_parquet(store, BRONZE, bronze_readings_key(k, day))) for k in SENSOR_KINDS
    )
    yield contract_check(store, BRONZE_READINGS, day.isoformat(), tables)


def _snapshot_for(context: dg.AssetExecutionContext, storage: CityStorage, day: date) -> LandingManifest:
    """A day never snapshotted, launched without iot/raw/readings (the asset page's Materialize runs
    the selected asset alone; the declared dependency does not add a missing upstream partition):
    take the snapshot here, as iot/raw/readings would, and record it as that asset's materialisation
    of the day. The job and the sensor snapshot first, so they never come here; an existing manifest
    is kept, so that re-materialising bronze alone replays the frozen snapshot."""
    manifest = _snapshot(storage, day)
    context.log.info(f"{day}: no landing manifest, so {RAW_READINGS.to_user_string()} was snapshotted here")
    context.log_event(
        dg.AssetMaterialization(
            asset_key=RAW_READINGS,
            partition=context.partition_key,
            description=f"Snapshot taken by {BRONZE_READINGS.to_user_string()}, launched without it.",
            metadata=_snapshot_metadata(manifest),
        )
    )
    return manifest


REGISTRY_ASSETS = {
    "sensors": SENSOR_REGISTRY,
    "districts": dg.AssetKey(["iot", "bronze", "districts"]),
    "road_segments": dg.AssetKey(["iot", "bronze", "road_segments"]),
    "river_gauges": dg.AssetKey(["iot", "bronze", "river_gauges"]),
}
_REGISTRY_DESCRIPTIONS = {
    "sensors": "Every IoT sensor: id, kind, district, road segment (loops), position, install date.",
    "districts": "City districts with zone type, population, area and day/night noise limits.",
    "road_segments": "Road segments with lanes, speed limit and capacity (vehicles per hour).",
    "river_gauges": "River gauges with their attention, warning and alarm water levels.",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            group_name="iot",
            kinds={"s3", "parquet", "pandera"},
            description=f"{_REGISTRY_DESCRIPTIONS[table]} From s3://landing/{landing_registry_key(table)}.",
            metadata={"dagster/uri": f"s3://{BRONZE}/{bronze_registry_key(table)}"},
        )
        for table, key in REGISTRY_ASSETS.items()
    ],
    retry_policy=STORAGE_RETRY,
)
@emits_lineage
def sensor_registry(
    context: dg.AssetExecutionContext, storage: CityStorage
) -> Iterator[dg.MaterializeResult]:
    store = storage.store()
    tables = {}
    for table in REGISTRY_TABLES:
        key = landing_registry_key(table)
        if store.stat(LANDING, key) is None:
            raise dg.Failure(f"s3://{LANDING}/{key} is missing: the registry needs all of {REGISTRY_TABLES}")
        dtypes = {name: column.dtype.type for name, column in REGISTRY_SCHEMAS[table].columns.items()}
        try:
            tables[table] = pl.read_csv(io.BytesIO(store.get_bytes(LANDING, key)), schema_overrides=dtypes)
        except pl.exceptions.PolarsError as exc:
            raise dg.Failure(f"s3://{LANDING}/{key} is not a readable CSV: {exc}") from exc
    try:
        valid = validate_registry(tables)
    except RegistryContractError as exc:
        raise dg.Failure(f"registry rejected: {exc}", allow_retries=False) from exc
    for table, frame in valid.items():
        info = store.put_bytes(BRONZE, bronze_registry_key(table), parquet_bytes(frame))
        yield dg.MaterializeResult(
            asset_key=REGISTRY_ASSETS[table],
            metadata={
                "dagster/row_count": frame.height,
                "bytes": info.size,
                **passed_contract(REGISTRY_SCHEMAS[table]),
            },
        )

"""CCTV assets: landing clips -> detections, per-minute line counts, the minutes observed and zone
occupancy, per clip.

A partition is one clip; a run takes a range of them (the clips the sensor found in one tick, or a
backfill's range) and analyses them together in ``python -m vision_jobs.pipes`` through Dagster
Pipes, so torch and the model load once per run in a process of their own (a pod on a GPU node in
production, see ``orchestration.lib.vision_workers``), never in the code server. Each clip still
has its own outputs and its own quarantine; a quarantined clip fails the run after the other clips
of the run are written and recorded.
"""

from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

import dagster as dg

from cityplatform.layout import (
    CCTV_PREFIX,
    CLIP_PUBLICATIONS,
    LANDING_CCTV_TRUTH_PREFIX,
    ClipName,
    bronze_cctv_prefix,
)
from cityplatform.objectstore import BRONZE, LANDING, QUARANTINE, ObjectInfo, parse_s3_uri, read_parquet
from governance.contracts.cctv import CCTV_SCHEMAS
from orchestration.defs.cctv.clips import DAYLIGHT_HOURS, camera_registry, find_clip
from orchestration.defs.cctv.keys import COUNTS, COVERAGE, DETECTIONS, OCCUPANCY, RAW_CLIPS, TABLES
from orchestration.defs.cctv.partitions import clip_partitions
from orchestration.lib.contracts import contract_check, contract_columns
from orchestration.lib.lineage import emits_lineage
from orchestration.lib.metadata import plain
from orchestration.lib.resources import CityStorage, VisionInputs
from orchestration.lib.retention_scope import KEPT_WITH, RETAINED, RETIRES_PARTITIONS
from orchestration.lib.retries import STORAGE_RETRY
from orchestration.lib.vision_workers import VisionWorkers


@dg.asset(
    key=RAW_CLIPS,
    group_name="cctv",
    partitions_def=clip_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    kinds={"s3", "video"},
    description=(
        "A raw CCTV clip at `s3://landing/cctv/{camera}/date=YYYY-MM-DD/{camera}_YYYYMMDDTHHMMSS.mp4` "
        "(any container: MP4/MOV, AVI, Matroska, MPEG-TS), or under `s3://landing/cctv/{camera}/` by a "
        "name its recorder gives, declared in the camera registry (`clip_names`). "
        "Personal data: faces and plates are visible, so only blurred frames ever leave it."
    ),
    tags=RETAINED,
    metadata={
        "dagster/uri": f"s3://{LANDING}/{CCTV_PREFIX}",
        # images cut from a clip go when the clip goes, and so does its partition; so does the
        # simulator's truth of a clip, whose boxes follow each (simulated) person frame by frame
        KEPT_WITH: [
            f"s3://{BRONZE}/{bronze_cctv_prefix('evidence')}",
            f"s3://{QUARANTINE}/{CCTV_PREFIX}",
            f"s3://{LANDING}/{LANDING_CCTV_TRUTH_PREFIX}",
        ],
        RETIRES_PARTITIONS: True,
    },
    retry_policy=STORAGE_RETRY,
)
@emits_lineage
def raw_clips(context: dg.AssetExecutionContext, storage: CityStorage) -> dg.MaterializeResult:
    found, missing = _landed(storage, context.partition_keys)
    if not found:
        raise dg.Failure(
            f"no clip of {_label(context)} is in s3://{LANDING}/{CCTV_PREFIX}", allow_retries=False
        )
    return dg.MaterializeResult(
        metadata={
            "clips": len(found),
            "bytes": sum(clip.size for clip in found.values()),
            "uris": {key: clip.uri for key, clip in found.items()},
            "etags": {key: clip.etag for key, clip in found.items()},
            "missing": missing,
        }
    )


def _label(context: dg.AssetExecutionContext) -> str:
    keys = context.partition_key_range
    return keys.start if keys.start == keys.end else f"{keys.start}...{keys.end}"


def _landed(storage: CityStorage, keys: list[str]) -> tuple[dict[str, ObjectInfo], list[str]]:
    """The landing object of each clip partition, and the partitions whose clip is not there."""
    store, zone, registry = storage.store(), storage.settings().zone, camera_registry()
    objects = {key: find_clip(store, ClipName.parse(key, zone), registry) for key in keys}
    return {k: o for k, o in objects.items() if o is not None}, [k for k, o in objects.items() if o is None]


PUBLISHED = (
    " A run writes a clip's tables and evidence as a generation of their own and publishes them at "
    f"once in `s3://{BRONZE}/{bronze_cctv_prefix(CLIP_PUBLICATIONS)}` (same partitions, one JSON per "
    "clip and generation): readers read each clip's newest published generation, never a run's half."
)


def _derived_spec(key: dg.AssetKey, description: str) -> dg.AssetSpec:
    metadata: dict[str, Any] = {
        "dagster/uri": f"s3://{BRONZE}/{bronze_cctv_prefix(TABLES[key])}",
        # the contract's columns; the registry's personal columns are tagged on them at load
        "dagster/column_schema": contract_columns(CCTV_SCHEMAS[TABLES[key]]),
    }
    if key == COUNTS:  # the publications name every table: kept as long as the counts that marts read
        metadata[KEPT_WITH] = [f"s3://{BRONZE}/{bronze_cctv_prefix(CLIP_PUBLICATIONS)}"]
    return dg.AssetSpec(
        key,
        group_name="cctv",
        deps=[RAW_CLIPS],
        kinds={"pytorch", "s3", "parquet"},
        description=description + PUBLISHED,
        tags=RETAINED,
        metadata=metadata,
    )


@dg.multi_asset(
    specs=[
        _derived_spec(
            DETECTIONS,
            "Tracked detections (box, class, confidence, track id) per analysed frame of a clip, one "
            "parquet per clip at `s3://bronze/cctv/detections/date=YYYY-MM-DD/camera={camera}/hour=HH/`.",
        ),
        _derived_spec(
            COUNTS,
            "Line crossings per minute by counting line, direction and class, one parquet per clip at "
            "`s3://bronze/cctv/counts/date=YYYY-MM-DD/camera={camera}/hour=HH/`.",
        ),
        _derived_spec(
            COVERAGE,
            "Seconds of footage analysed per minute, every minute the clip covers (with or without a "
            "crossing), one parquet per clip at "
            "`s3://bronze/cctv/coverage/date=YYYY-MM-DD/camera={camera}/hour=HH/`: hourly volumes are "
            "scaled from these seconds.",
        ),
        _derived_spec(
            OCCUPANCY,
            "Objects present per minute in each counting zone (mean and max), one parquet per clip at "
            "`s3://bronze/cctv/occupancy/date=YYYY-MM-DD/camera={camera}/hour=HH/`.",
        ),
    ],
    check_specs=[
        *(
            dg.AssetCheckSpec(
                "contract",
                asset=key,
                blocking=True,
                description="The parquet read back from S3 passes its Pandera contract on every row.",
            )
            for key in TABLES
        ),
        dg.AssetCheckSpec(
            "camera_sees_traffic",
            asset=DETECTIONS,
            description="A daylight clip with no detection at all points at a blocked or broken camera.",
        ),
    ],
    partitions_def=clip_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),  # a backfill is one run: one model load
    pool="vision",  # as many analyses at once as the instance's `vision` pool allows (GPUs)
    retry_policy=STORAGE_RETRY,
)
@emits_lineage
def clip_analysis(
    context: dg.AssetExecutionContext,
    storage: CityStorage,
    vision: VisionInputs,
    vision_workers: VisionWorkers,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    found, missing = _landed(storage, context.partition_keys)
    if not found:
        raise dg.Failure(
            f"no clip of {_label(context)} is in s3://{LANDING}/{CCTV_PREFIX}", allow_retries=False
        )
    extras = {"clip_uris": [clip.uri for clip in found.values()], **vision.extras(storage.settings())}
    invocation = vision_workers.run(context, extras=extras)
    results = [
        r
        for r in invocation.get_results(implicit_materializations=False)
        if isinstance(r, dg.MaterializeResult)
    ]
    reports = [m["clip"] for m in invocation.get_custom_messages() if "clip" in m]
    quarantined = [r for r in reports if r["status"] == "quarantined"]
    if len(reports) != len(found) or (len(results) != len(TABLES) and len(quarantined) < len(found)):
        raise dg.Failure(f"{_label(context)}: the vision process reported no results", allow_retries=False)
    if results:
        yield from results
        starts = {clip.uri: ClipName.parse(key, storage.settings().zone).start for key, clip in found.items()}
        yield from _checks(storage, _label(context), results, reports, starts)
    if quarantined or missing:
        reasons = [f"{PurePosixPath(r['uri']).name}: {r['reason']}: {r['detail']}" for r in quarantined]
        raise dg.Failure(
            f"{len(quarantined)} of {len(found)} clips quarantined ({'; '.join(reasons)})"
            + (f"; no clip in landing for {', '.join(missing)}" if missing else ""),
            metadata={"quarantine_records": [uri for r in quarantined for uri in r["outputs"]]},
            allow_retries=False,
        )


def _checks(
    storage: CityStorage,
    label: str,
    results: list[dg.MaterializeResult],
    reports: list[dict[str, Any]],
    starts: dict[str, Any],
) -> Iterator[dg.AssetCheckResult]:
    """Every clip's parquet against its contract; a daylight clip (``starts``: landing URI -> its
    start, whatever name its recorder gave it) with no detection at all."""
    store = storage.store()
    # failure cases are dated by the batch's earliest clip, so they go no later than any clip's rows
    day = min(start.date() for start in starts.values())
    for result in results:
        schema = CCTV_SCHEMAS[TABLES[result.asset_key]]
        paths = plain(result.metadata["paths"])
        tables = [(schema, read_parquet(store, *parse_s3_uri(str(path)))) for path in paths]
        yield contract_check(store, result.asset_key, label, day, tables)
    done = [r for r in reports if r["status"] == "done"]
    blind = [r["uri"] for r in done if r["detections"] == 0 and starts[r["uri"]].hour in DAYLIGHT_HOURS]
    yield dg.AssetCheckResult(
        check_name="camera_sees_traffic",
        asset_key=DETECTIONS,
        passed=not blind,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "detections": sum(r["detections"] for r in done),
            "daylight_clips_without_detections": blind,
        },
    )

"""CCTV assets: a landing clip -> detections, per-minute line counts, the minutes observed and zone
occupancy, per clip.

The heavy work runs in ``python -m vision_jobs.pipes`` through Dagster Pipes, so torch and the
model load in a process of their own (a GPU worker in production), never in the code server.
"""

import sys
from collections.abc import Iterator

import dagster as dg

from cityplatform.layout import CCTV_PREFIX, ClipName, bronze_cctv_prefix
from cityplatform.objectstore import BRONZE, LANDING, QUARANTINE, parse_s3_uri, read_parquet
from governance.contracts.cctv import CCTV_SCHEMAS
from orchestration.defs.cctv.clips import DAYLIGHT_HOURS, camera_registry, find_clip
from orchestration.defs.cctv.partitions import clip_partitions
from orchestration.lib.contracts import contract_check, contract_columns
from orchestration.lib.lineage import emits_lineage
from orchestration.lib.metadata import plain
from orchestration.lib.resources import CityStorage, VisionInputs
from orchestration.lib.retention_scope import KEPT_WITH, RETAINED, RETIRES_PARTITIONS
from orchestration.lib.retries import STORAGE_RETRY

RAW_CLIPS = dg.AssetKey(["cctv", "raw", "clips"])
DETECTIONS = dg.AssetKey(["cctv", "derived", "detections"])
COUNTS = dg.AssetKey(["cctv", "derived", "counts"])
COVERAGE = dg.AssetKey(["cctv", "derived", "coverage"])
OCCUPANCY = dg.AssetKey(["cctv", "derived", "zone_occupancy"])
TABLES = {DETECTIONS: "detections", COUNTS: "counts", COVERAGE: "coverage", OCCUPANCY: "occupancy"}


@dg.asset(
    key=RAW_CLIPS,
    group_name="cctv",
    partitions_def=clip_partitions,
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
        # images cut from a clip go when the clip goes, and so does its partition
        KEPT_WITH: [f"s3://{BRONZE}/{bronze_cctv_prefix('evidence')}", f"s3://{QUARANTINE}/{CCTV_PREFIX}"],
        RETIRES_PARTITIONS: True,
    },
    retry_policy=STORAGE_RETRY,
)
@emits_lineage
def raw_clips(context: dg.AssetExecutionContext, storage: CityStorage) -> dg.MaterializeResult:
    name = ClipName.parse(context.partition_key, storage.settings().zone)
    clip = find_clip(storage.store(), name, camera_registry())
    if clip is None:
        raise dg.Failure(
            f"clip {context.partition_key} is not in s3://{LANDING}/{CCTV_PREFIX}", allow_retries=False
        )
    return dg.MaterializeResult(
        metadata={
            "uri": dg.MetadataValue.path(clip.uri),
            "bytes": clip.size,
            "etag": clip.etag,
            "camera_id": name.camera_id,
            "start_local": name.start.isoformat(),
        }
    )


def _derived_spec(key: dg.AssetKey, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key,
        group_name="cctv",
        deps=[RAW_CLIPS],
        kinds={"pytorch", "s3", "parquet"},
        description=description,
        tags=RETAINED,
        metadata={
            "dagster/uri": f"s3://{BRONZE}/{bronze_cctv_prefix(TABLES[key])}",
            # the contract's columns; the registry's personal columns are tagged on them at load
            "dagster/column_schema": contract_columns(CCTV_SCHEMAS[TABLES[key]]),
        },
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
    pool="vision",  # as many analyses at once as the instance's `vision` pool allows (GPUs)
    retry_policy=STORAGE_RETRY,
)
@emits_lineage
def clip_analysis(
    context: dg.AssetExecutionContext,
    storage: CityStorage,
    vision: VisionInputs,
    pipes_subprocess_client: dg.PipesSubprocessClient,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    name = ClipName.parse(context.partition_key, storage.settings().zone)
    store = storage.store()
    clip = find_clip(store, name, camera_registry())
    if clip is None:
        raise dg.Failure(
            f"clip {context.partition_key} is not in s3://{LANDING}/{CCTV_PREFIX}", allow_retries=False
        )
    invocation = pipes_subprocess_client.run(
        command=[sys.executable, "-m", "vision_jobs.pipes"],
        context=context,
        extras={"clip_uri": clip.uri, **vision.extras(storage.settings())},
    )
    results = [r for r in invocation.get_results() if isinstance(r, dg.MaterializeResult)]
    quarantined = [m for m in invocation.get_custom_messages() if m.get("status") == "quarantined"]
    if quarantined or len(results) != len(TABLES):
        reason = quarantined[0] if quarantined else {"reason": "no results", "record": []}
        raise dg.Failure(
            f"clip {context.partition_key} quarantined: {reason.get('reason')}: {reason.get('detail')}",
            metadata={"quarantine_record": ", ".join(reason.get("record", []))},
            allow_retries=False,
        )
    yield from results
    for result in results:
        bucket, key = parse_s3_uri(str(plain(result.metadata["path"])))
        table = (CCTV_SCHEMAS[TABLES[result.asset_key]], read_parquet(store, bucket, key))
        yield contract_check(store, result.asset_key, context.partition_key, [table])
    detections = next(r for r in results if r.asset_key == DETECTIONS)
    count = int(plain(detections.metadata["detections"]))
    daylight = name.start.hour in DAYLIGHT_HOURS
    yield dg.AssetCheckResult(
        check_name="camera_sees_traffic",
        asset_key=DETECTIONS,
        passed=count > 0 or not daylight,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"detections": count, "daylight": daylight},
    )

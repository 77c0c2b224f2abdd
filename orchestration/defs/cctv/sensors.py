"""Watch ``s3://landing/cctv/``: the clips new since the last tick become partitions, analysed in
batches of up to ``CITY_VISION_CLIPS_PER_RUN`` clips per run (one model load per run).

Each tick lists the camera folders, then in each only the date prefixes from
``CITY_CCTV_LATE_DAYS`` days before the newest clip seen on (S3 lists keys in order, so a listing
that starts after ``date=<that day>`` never reads older days); which of those objects are new
comes from the landing cursor (last-modified watermark). New clips are added as partitions in key
order, so each batch is a contiguous range of partitions: one run with a range. A clip delivered
again with other bytes (a known partition) gets a run of its own; the run key is made of the
clips' keys and etags, so the same delivery is never analysed twice.
An object whose name says no camera and start (neither the platform's clip name nor a pattern of
its camera in the registry) gets a quarantine record with that reason: nothing landed is ignored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from cityplatform.layout import CCTV_PREFIX, unplaced_clip_key
from cityplatform.objectstore import LANDING, QUARANTINE, ObjectInfo, ObjectStore
from cityplatform.settings import Settings
from orchestration.defs.cctv.clips import camera_registry
from orchestration.defs.cctv.jobs import analyse_clip_job
from orchestration.defs.cctv.partitions import clip_partitions
from orchestration.lib.landing_cursor import fresh_objects, watermark
from orchestration.lib.resources import CityStorage
from vision_jobs.clips import BadClipKey, clip_name_of
from vision_jobs.sinks import put_quarantine


def _quarantine(
    context: dg.SensorEvaluationContext, store: ObjectStore, obj: ObjectInfo, reason: str, detail: str
) -> None:
    """A record only: the object stays in landing (the sensor copies no video), the record points at it."""
    record = put_quarantine(store, QUARANTINE, unplaced_clip_key(obj.key), None, obj.uri, reason, detail)
    context.log.warning(f"{obj.uri} quarantined ({reason}): {detail}; record {record.uri}")


def recent_landing(store: ObjectStore, settings: Settings, cursor: str | None) -> Iterator[ObjectInfo]:
    """Objects under each camera's date prefixes from the late-days horizon on (all on the first tick)."""
    seen = watermark(cursor)
    since = (
        None if seen is None else seen.astimezone(settings.zone).date() - timedelta(settings.cctv_late_days)
    )
    for camera in store.list_prefixes(LANDING, CCTV_PREFIX):
        # clips a recorder names itself (the registry's clip_names) lie in the camera's own folder
        yield from store.list_objects(LANDING, camera, recursive=False)
        # "date=2026-03-16" sorts before every key under that prefix, so that day is listed
        yield from store.list_objects(
            LANDING, camera, start_after=None if since is None else f"{camera}date={since}"
        )


def batch_request(clips: list[tuple[str, ObjectInfo]]) -> dg.RunRequest:
    """One run over a contiguous range of clip partitions, keyed by every clip's key and etag."""
    digest = hashlib.sha256(json.dumps([[o.key, o.etag] for _, o in clips]).encode()).hexdigest()[:16]
    first, last = clips[0][0], clips[-1][0]
    if first == last:
        return dg.RunRequest(run_key=f"{clips[0][1].key}@{clips[0][1].etag}", partition_key=first)
    return dg.RunRequest(
        run_key=f"{first}...{last}@{digest}",
        tags={ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last},
    )


@dg.sensor(
    job=analyse_clip_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="New clips under s3://landing/cctv/ become clip partitions, analysed in batches per run; "
    "an object whose name says no camera and start is quarantined with the reason.",
)
def cctv_landing_sensor(context: dg.SensorEvaluationContext, storage: CityStorage) -> dg.SensorResult:
    settings, store = storage.settings(), storage.store()
    listing = list(recent_landing(store, settings, context.cursor))
    fresh, cursor = fresh_objects(listing, context.cursor)
    zone, registry = settings.zone, camera_registry()
    clips: dict[str, ObjectInfo] = {}
    for obj in fresh:
        try:
            key = clip_name_of(obj.key, zone, registry).format()
        except BadClipKey as exc:
            _quarantine(context, store, obj, exc.reason, str(exc))
            continue
        if (first := clips.get(key)) is not None:
            detail = f"{obj.key} and {first.key} are both clip {key}; only the first is analysed"
            _quarantine(context, store, obj, "duplicate-clip", detail)
            continue
        clips[key] = obj
    if not clips:
        return dg.SensorResult(skip_reason="no new clips", cursor=cursor)
    name = clip_partitions.name or ""
    known = {key for key in clips if context.instance.has_dynamic_partition(name, key)}
    new = sorted(set(clips) - known)
    size = settings.vision_clips_per_run
    batches = [new[i : i + size] for i in range(0, len(new), size)] + [[key] for key in sorted(known)]
    return dg.SensorResult(
        run_requests=[batch_request([(key, clips[key]) for key in batch]) for batch in batches],
        dynamic_partitions_requests=[clip_partitions.build_add_request(new)] if new else [],
        cursor=cursor,
    )

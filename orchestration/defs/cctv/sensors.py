"""Watch ``s3://landing/cctv/``: each new clip becomes a partition and gets one analysis run.

The run key is the clip's object key and etag, so the same clip delivered twice is analysed once;
a clip re-delivered with different bytes is a new key and is analysed again (its outputs replaced).
An object whose name says no camera and start (neither the platform's clip name nor a pattern of
its camera in the registry) gets a quarantine record with that reason: nothing landed is ignored.
"""

import dagster as dg

from cityplatform.layout import CCTV_PREFIX, unplaced_clip_key
from cityplatform.objectstore import LANDING, QUARANTINE, ObjectInfo, ObjectStore
from orchestration.defs.cctv.clips import camera_registry
from orchestration.defs.cctv.jobs import analyse_clip_job
from orchestration.defs.cctv.partitions import clip_partitions
from orchestration.lib.landing_cursor import fresh_objects
from orchestration.lib.resources import CityStorage
from vision_jobs.clips import BadClipKey, clip_name_of
from vision_jobs.sinks import put_quarantine


def _quarantine(
    context: dg.SensorEvaluationContext, store: ObjectStore, obj: ObjectInfo, reason: str, detail: str
) -> None:
    """A record only: the object stays in landing (the sensor copies no video), the record points at it."""
    record = put_quarantine(store, QUARANTINE, unplaced_clip_key(obj.key), None, obj.uri, reason, detail)
    context.log.warning(f"{obj.uri} quarantined ({reason}): {detail}; record {record.uri}")


@dg.sensor(
    job=analyse_clip_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="New clips under s3://landing/cctv/ become clip partitions with one run each (key + etag); "
    "an object whose name says no camera and start is quarantined with the reason.",
)
def cctv_landing_sensor(context: dg.SensorEvaluationContext, storage: CityStorage) -> dg.SensorResult:
    store = storage.store()
    listing = list(store.list_objects(LANDING, CCTV_PREFIX))
    fresh, cursor = fresh_objects(listing, context.cursor)
    zone, registry = storage.settings().zone, camera_registry()
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
    known = set(context.instance.get_dynamic_partitions(clip_partitions.name or ""))
    new_keys = sorted(set(clips) - known)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=f"{obj.key}@{obj.etag}", partition_key=key)
            for key, obj in sorted(clips.items())
        ],
        dynamic_partitions_requests=[clip_partitions.build_add_request(new_keys)] if new_keys else [],
        cursor=cursor,
    )

"""Watch ``s3://landing/cctv/``: each new clip becomes a partition and gets one analysis run.

The run key is the clip's object key and etag, so the same clip delivered twice is analysed once;
a clip re-delivered with different bytes is a new key and is analysed again (its outputs replaced).
"""

import dagster as dg

from cityplatform.layout import CCTV_PREFIX
from cityplatform.objectstore import LANDING
from orchestration.defs.cctv.clips import clip_partition_key
from orchestration.defs.cctv.jobs import analyse_clip_job
from orchestration.defs.cctv.partitions import clip_partitions
from orchestration.lib.landing_cursor import fresh_objects
from orchestration.lib.resources import CityStorage


@dg.sensor(
    job=analyse_clip_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="New clips under s3://landing/cctv/ become clip partitions with one run each (key + etag).",
)
def cctv_landing_sensor(context: dg.SensorEvaluationContext, storage: CityStorage) -> dg.SensorResult:
    listing = list(storage.store().list_objects(LANDING, CCTV_PREFIX))
    fresh, cursor = fresh_objects(listing, context.cursor)
    clips = {key: obj for obj in fresh if (key := clip_partition_key(obj.key)) is not None}
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

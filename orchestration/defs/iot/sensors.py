"""Watch ``s3://landing/iot/`` and request an ingestion run for each day whose landing content changed.

The cursor (``orchestration.lib.landing_cursor``) means a tick only sees what arrived since the last.
An object of one of a day's first slots may carry the day before's late readings, so it requests
that day too (``ingestion.landing.ingested_days``): a late file for D re-materialises D. A day is a
partition once it has ended (``orchestration.lib.partitions``), so the objects of the day still
running are ingested after midnight: by the next day's first objects, or by the nightly schedule.
The run key is a digest of every (object key, etag) of that day: a re-delivered object with the
same etag yields the same key, which Dagster never runs twice; ingestion itself replaces the day,
so even a forced re-run cannot duplicate rows. Its runs are incremental (``INCREMENTAL_TAG``): each
parses only the objects its day's last ingestion has not.
"""

from collections import defaultdict
from datetime import date, tzinfo

import dagster as dg

from cityplatform.layout import LANDING_IOT_PREFIX
from cityplatform.objectstore import LANDING, ObjectInfo
from ingestion.landing import LandingManifest, ingested_days
from orchestration.defs.iot.assets import INCREMENTAL_TAG
from orchestration.defs.iot.jobs import ingest_day_job
from orchestration.lib.landing_cursor import fresh_objects
from orchestration.lib.partitions import daily_partitions
from orchestration.lib.resources import CityStorage


def new_landing_objects(
    objects: list[ObjectInfo], cursor: str | None, tz: tzinfo
) -> tuple[dict[date, list[ObjectInfo]], str | None]:
    """Objects newer than the cursor, grouped by each day whose ingestion reads them (``tz``: the
    city's zone), and the advanced cursor."""
    fresh, cursor = fresh_objects(objects, cursor)
    by_day: dict[date, list[ObjectInfo]] = defaultdict(list)
    for obj in fresh:
        for day in ingested_days(obj.key, tz):
            by_day[day].append(obj)
    return dict(by_day), cursor


@dg.sensor(
    job=ingest_day_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "New or changed objects under s3://landing/iot/ request an ingestion of their day, and of the "
        "day before for an object delivered within the lateness limit after midnight (it may carry "
        "that day's late readings); only days that have ended are partitions. The run key is a "
        "digest of the day's (key, etag) pairs, so the same delivery never runs twice."
    ),
)
def iot_landing_sensor(context: dg.SensorEvaluationContext, storage: CityStorage) -> dg.SensorResult:
    store = storage.store()
    zone = storage.settings().zone
    listing = list(store.list_objects(LANDING, LANDING_IOT_PREFIX))
    changed_days, cursor = new_landing_objects(listing, context.cursor, zone)
    run_requests = []
    for day in sorted(d for d in changed_days if daily_partitions.has_partition_key(d.isoformat())):
        snapshot = LandingManifest.from_listing(store, day, zone)
        run_requests.append(
            dg.RunRequest(
                run_key=f"iot-{day.isoformat()}-{snapshot.fingerprint}",
                partition_key=day.isoformat(),
                tags={"landing/objects": str(snapshot.object_count), INCREMENTAL_TAG: "true"},
            )
        )
    if not run_requests:
        return dg.SensorResult(skip_reason="no new landing objects of a day that has ended", cursor=cursor)
    return dg.SensorResult(run_requests=run_requests, cursor=cursor)

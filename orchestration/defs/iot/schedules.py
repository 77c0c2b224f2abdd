"""Nightly ingestion of the day that just ended (local time), as a safety net behind the sensor."""

import dagster as dg

from orchestration.defs.iot.jobs import ingest_day_job

iot_daily_schedule = dg.build_schedule_from_partitioned_job(
    ingest_day_job,
    hour_of_day=0,
    minute_of_hour=30,
    description="00:30 local: ingest yesterday's partition (late files included).",
)

"""Nightly ingestion of the day that just ended (local time), as a safety net behind the sensor.

It runs once the day's late deliveries are in (``orchestration.lib.partitions.DAY_GRACE``).
"""

from datetime import timedelta

from cityplatform.sensor_kinds import MAX_LATENESS
from orchestration.defs.iot.jobs import ingest_day_job
from orchestration.lib.partitions import INGESTION_AT, nightly_schedule

iot_daily_schedule = nightly_schedule(
    ingest_day_job,
    INGESTION_AT,
    description=(
        f"ingest the day that ended, its readings delivered up to "
        f"{MAX_LATENESS // timedelta(minutes=1)} minutes late included."
    ),
)

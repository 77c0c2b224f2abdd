"""Nightly marts build of the day that just ended, after the nightly ingestion of that day."""

from orchestration.defs.marts.jobs import build_day_job
from orchestration.lib.partitions import INGESTION_AT, MARTS_AT, clock, nightly_schedule

marts_daily_schedule = nightly_schedule(
    build_day_job,
    MARTS_AT,
    description=(
        f"build and publish the marts of the day that ended, after its ingestion ({clock(INGESTION_AT)})."
    ),
)

"""Nightly marts build of the day that just ended, after ingestion's 00:30 run."""

import dagster as dg

from orchestration.defs.marts.jobs import build_day_job

marts_daily_schedule = dg.build_schedule_from_partitioned_job(
    build_day_job,
    hour_of_day=1,
    minute_of_hour=30,
    description="01:30 local: build and publish yesterday's marts (ingestion runs at 00:30).",
)

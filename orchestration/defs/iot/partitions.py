"""Daily partitions in the city's local time: one partition is one calendar day of readings."""

import dagster as dg

from cityplatform.settings import load_settings

daily_partitions = dg.DailyPartitionsDefinition(
    start_date="2025-01-01", timezone=load_settings().timezone, end_offset=1
)

"""Partitions several domains share: one partition is one calendar day in the city's local time.

IoT ingestion writes a day per partition and the marts build and publish the same days, so both
domains use this one definition; partitions of one domain only (CCTV clips) stay in that domain.
"""

import dagster as dg

from cityplatform.settings import load_settings

daily_partitions = dg.DailyPartitionsDefinition(
    start_date="2025-01-01", timezone=load_settings().timezone, end_offset=1
)

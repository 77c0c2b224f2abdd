"""Partitions several domains share: one partition is one calendar day in the city's local time.

IoT ingestion writes a day per partition and the marts build and publish the same days, so both
domains use this one definition; partitions of one domain only (CCTV clips) stay in that domain.

A day is a partition once it has ended (no end offset), so a nightly schedule's tick on D+1 requests
D. Its data is complete later than midnight: a reading may be delivered up to ``MAX_LATENESS`` after
it was observed, so D closes at D+1 00:00 + :data:`DAY_GRACE`, and the nightly runs start then.
The first partition is the first day of data (:func:`first_partition_day`), so the UI's fill is honest.
"""

from datetime import date, timedelta

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from cityplatform.sensor_kinds import MAX_LATENESS
from cityplatform.settings import Settings, load_settings
from citysim.landing import first_landed_day

# The last slot of D's late readings starts before D+1 00:00 + MAX_LATENESS; its upload and listing
# take a few minutes more.
DELIVERY_MARGIN = timedelta(minutes=10)
DAY_GRACE = MAX_LATENESS + DELIVERY_MARGIN
"""How long after midnight a day's landing is complete: D closes at D+1 01:10."""
INGESTION_AT = DAY_GRACE
"""When the nightly ingestion of the day that ended runs (after midnight, city time)."""
MARTS_AT = INGESTION_AT + timedelta(minutes=20)
"""When the nightly marts build runs: the day's ingestion has 20 minutes to finish first."""


def first_partition_day(settings: Settings) -> date:
    """``CITY_FIRST_DAY``; unset, the first day landed on this machine; else yesterday (city time)."""
    return settings.first_day or first_landed_day(settings.home_dir) or settings.today() - timedelta(days=1)


def day_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    """Days of the city's zone from the first day of data to the last day that has ended."""
    return dg.DailyPartitionsDefinition(
        start_date=first_partition_day(settings).isoformat(), timezone=settings.timezone
    )


def _hour_and_minute(after_midnight: timedelta) -> tuple[int, int]:
    return divmod(after_midnight // timedelta(minutes=1), 60)


def clock(after_midnight: timedelta) -> str:
    """``HH:MM``, the time of day ``after_midnight`` names."""
    hours, minutes = _hour_and_minute(after_midnight)
    return f"{hours:02d}:{minutes:02d}"


def nightly_schedule(
    job: UnresolvedAssetJobDefinition, at: timedelta, description: str
) -> dg.ScheduleDefinition:
    """A daily schedule of a day-partitioned job at ``at`` after midnight, city time (the partitions'
    zone); each tick requests the last partition, the day that ended at that midnight."""
    hours, minutes = _hour_and_minute(at)
    return dg.build_schedule_from_partitioned_job(
        job, hour_of_day=hours, minute_of_hour=minutes, description=f"{clock(at)} city time: {description}"
    )


daily_partitions = day_partitions(load_settings())

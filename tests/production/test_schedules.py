"""Production test 5: the nightly schedules of the real code location tick after the day's grace,
city time, and each tick requests the day that ended, its late readings in (issue 16).

The ticks are evaluated as the daemon evaluates them (``evaluate_tick`` at the scheduled time); no
run is launched, so no server is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import dagster as dg
import pytest
from dagster._utils.schedules import cron_string_iterator

from cityplatform.settings import load_settings

pytestmark = pytest.mark.production

# Each nightly schedule and its tick, after midnight city time: ingestion once the day has closed
# (the lateness limit and a delivery margin: 01:10), the marts after it (01:30).
NIGHTLY = {
    "iot_ingest_day_schedule": timedelta(hours=1, minutes=10),
    "marts_build_day_schedule": timedelta(hours=1, minutes=30),
}


@pytest.fixture(scope="module")
def definitions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dg.Definitions]:
    """The code location as the daemon loads it; the partitions start early enough for the days
    below unless this session loaded them already."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CITY_HOME", str(tmp_path_factory.mktemp("home")))
        patch.setenv("CITY_FIRST_DAY", "2025-01-01")
        from orchestration.definitions import defs

        yield defs()


def days_to_check() -> list[date]:
    """Yesterday (city time), the first day of the partitions and a month's and a year's last day."""
    from orchestration.lib.partitions import daily_partitions  # loaded with the code location

    yesterday = load_settings().today() - timedelta(days=1)
    first = date.fromisoformat(daily_partitions.get_first_partition_key() or yesterday.isoformat())
    fixed = [date(2025, 12, 31), date(2026, 2, 28)]
    return sorted({yesterday, first, *(d for d in fixed if first <= d <= yesterday)})


@pytest.mark.parametrize("name", sorted(NIGHTLY))
def test_each_nightly_tick_on_the_next_day_requests_the_day_that_ended(
    definitions: dg.Definitions, name: str
) -> None:
    schedule = definitions.resolve_schedule_def(name)
    zone = load_settings().zone
    assert schedule.execution_timezone == str(zone)
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED  # the operator turns it on
    for day in days_to_check():
        noon = datetime.combine(day, time(12), tzinfo=zone)
        tick = next(cron_string_iterator(noon.timestamp(), schedule.cron_schedule, str(zone)))
        assert tick == datetime.combine(day + timedelta(days=1), time(), tzinfo=zone) + NIGHTLY[name], day
        with dg.build_schedule_context(scheduled_execution_time=tick) as context:
            requests = schedule.evaluate_tick(context).run_requests or []
        assert [r.partition_key for r in requests] == [day.isoformat()], (name, day)


def test_the_marts_tick_at_01_30_on_the_next_day_requests_the_day(definitions: dg.Definitions) -> None:
    """The issue's figure: the scheduled tick at 01:30 local on D+1 requests partition D."""
    schedule = definitions.resolve_schedule_def("marts_build_day_schedule")
    zone = load_settings().zone
    day = load_settings().today() - timedelta(days=1)
    at = datetime.combine(day + timedelta(days=1), time(1, 30), tzinfo=zone)
    with dg.build_schedule_context(scheduled_execution_time=at) as context:
        requests = schedule.evaluate_tick(context).run_requests or []
    assert [r.partition_key for r in requests] == [day.isoformat()]

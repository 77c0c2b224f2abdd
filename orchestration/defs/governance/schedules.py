"""Daily scorecard before the working day starts, so stewards read today's standing at 08:00."""

import dagster as dg

from cityplatform.settings import load_settings
from orchestration.defs.governance.jobs import governance_scorecard_job

governance_daily_schedule = dg.ScheduleDefinition(
    job=governance_scorecard_job,
    cron_schedule="0 7 * * *",
    execution_timezone=load_settings().timezone,
    description="07:00 local: scorecards and steward report for the day.",
)

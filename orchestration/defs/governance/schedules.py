"""Daily governance before the working day starts: retention at 03:00, then the scorecards at 07:00,
so stewards read today's standing at 08:00, the retention check's result included."""

import dagster as dg

from cityplatform.settings import load_settings
from orchestration.defs.governance.jobs import governance_retention_job, governance_scorecard_job

governance_daily_schedule = dg.ScheduleDefinition(
    job=governance_scorecard_job,
    cron_schedule="0 7 * * *",
    execution_timezone=load_settings().timezone,
    description="07:00 local: scorecards and steward report for the day.",
)

governance_retention_schedule = dg.ScheduleDefinition(
    job=governance_retention_job,
    cron_schedule="0 3 * * *",
    execution_timezone=load_settings().timezone,
    description="03:00 local: delete what is past retention, record it, check nothing is left.",
)

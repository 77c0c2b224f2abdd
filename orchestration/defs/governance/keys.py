"""Asset keys of the governance domain, shared by its assets, checks and jobs (no definitions here)."""

import dagster as dg

from governance.registry.departments import load_departments

SCORECARDS = {d.id: dg.AssetKey(["governance", "scorecard", d.id]) for d in load_departments()}
STEWARD_REPORT = dg.AssetKey(["governance", "report", "steward_report"])

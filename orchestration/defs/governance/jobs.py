"""Jobs of the governance domain."""

import dagster as dg

governance_scorecard_job = dg.define_asset_job(
    "governance_scorecard",
    selection=dg.AssetSelection.groups("governance"),
    description="Score every department's stewardship and write the steward report.",
)

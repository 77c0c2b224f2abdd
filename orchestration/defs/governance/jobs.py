"""Jobs of the governance domain."""

import dagster as dg

from orchestration.defs.governance.retention import DELETIONS

governance_scorecard_job = dg.define_asset_job(
    "governance_scorecard",
    selection=dg.AssetSelection.groups("governance") - dg.AssetSelection.assets(DELETIONS),
    description="Score every department's stewardship and write the steward report.",
)

governance_retention_job = dg.define_asset_job(
    "governance_retention",
    selection=dg.AssetSelection.assets(DELETIONS),
    description="Delete what is past its retention period, record the deletions, check nothing is left.",
)

"""Jobs of the marts domain."""

import dagster as dg

from orchestration.defs.marts.assets import GROUP

# Every asset keyed under marts/, whatever its group (the marts are grouped by department and layer).
build_day_job = dg.define_asset_job(
    "marts_build_day",
    selection=dg.AssetSelection.key_prefixes([GROUP]),
    description=(
        "Build every mart for a day (or a backfilled range, in one dbt run) and publish each "
        "department's marts to its bucket."
    ),
)

"""Jobs of the IoT domain."""

import dagster as dg

from orchestration.defs.iot.assets import BRONZE_READINGS, QUARANTINE_READINGS, RAW_READINGS, REGISTRY_ASSETS

# The day's two steps run one after the other (bronze reads raw's snapshot), so a process per step
# (the code location's multiprocess executor) buys no parallelism, and costs a launched run a step
# server that imports and builds the code location again (seconds of CPU, benchmarks/runs.py).
# Dagster's in-process executor runs both steps in the run worker, which has built it already.
ingest_day_job = dg.define_asset_job(
    "iot_ingest_day",
    selection=dg.AssetSelection.assets(RAW_READINGS, BRONZE_READINGS, QUARANTINE_READINGS),
    description="Snapshot one day of landing IoT objects and ingest it into bronze and quarantine.",
    executor_def=dg.in_process_executor,
)

registry_job = dg.define_asset_job(
    "iot_registry",
    selection=dg.AssetSelection.assets(*REGISTRY_ASSETS.values()),
    description="Load and validate the sensor registry and its reference tables.",
)

"""Jobs of the IoT domain."""

import dagster as dg

from orchestration.defs.iot.assets import BRONZE_READINGS, QUARANTINE_READINGS, RAW_READINGS, REGISTRY_ASSETS

ingest_day_job = dg.define_asset_job(
    "iot_ingest_day",
    selection=dg.AssetSelection.assets(RAW_READINGS, BRONZE_READINGS, QUARANTINE_READINGS),
    description="Snapshot one day of landing IoT objects and ingest it into bronze and quarantine.",
)

registry_job = dg.define_asset_job(
    "iot_registry",
    selection=dg.AssetSelection.assets(*REGISTRY_ASSETS.values()),
    description="Load and validate the sensor registry and its reference tables.",
)

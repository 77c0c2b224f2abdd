"""Jobs of the CCTV domain."""

import dagster as dg

from orchestration.defs.cctv.assets import COUNTS, DETECTIONS, OCCUPANCY, RAW_CLIPS

analyse_clip_job = dg.define_asset_job(
    "cctv_analyse_clip",
    selection=dg.AssetSelection.assets(RAW_CLIPS, DETECTIONS, COUNTS, OCCUPANCY),
    description=(
        "Register landing clips (one partition, or a range: a batch) and analyse them together with one "
        "model load (detect, track, count, blur) via Pipes."
    ),
)

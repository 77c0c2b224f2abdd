"""Jobs of the CCTV domain."""

import dagster as dg

from orchestration.defs.cctv.assets import RAW_CLIPS, TABLES

analyse_clip_job = dg.define_asset_job(
    "cctv_analyse_clip",
    selection=dg.AssetSelection.assets(RAW_CLIPS, *TABLES),  # the analysis writes every table at once
    description="Register one landing clip and analyse it (detect, track, count, blur) via Pipes.",
)

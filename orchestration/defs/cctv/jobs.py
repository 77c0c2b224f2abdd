"""Jobs of the CCTV domain."""

import dagster as dg

from orchestration.defs.cctv.keys import RAW_CLIPS, TABLES

analyse_clip_job = dg.define_asset_job(
    "cctv_analyse_clip",
    selection=dg.AssetSelection.assets(RAW_CLIPS, *TABLES),  # the analysis writes every table at once
    description=(
        "Register landing clips (one partition, or a range: a batch) and analyse them together with one "
        "model load (detect, track, count, blur) via Pipes."
    ),
)

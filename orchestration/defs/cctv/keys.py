"""Asset keys of the CCTV domain, shared by its assets, jobs and the CLI (no definitions here)."""

import dagster as dg

RAW_CLIPS = dg.AssetKey(["cctv", "raw", "clips"])
DETECTIONS = dg.AssetKey(["cctv", "derived", "detections"])
COUNTS = dg.AssetKey(["cctv", "derived", "counts"])
COVERAGE = dg.AssetKey(["cctv", "derived", "coverage"])
OCCUPANCY = dg.AssetKey(["cctv", "derived", "zone_occupancy"])
TABLES = {DETECTIONS: "detections", COUNTS: "counts", COVERAGE: "coverage", OCCUPANCY: "occupancy"}

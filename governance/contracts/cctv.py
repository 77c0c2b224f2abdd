"""Contracts of the CCTV vision outputs: detections, per-minute line counts, coverage and zone occupancy.

Class names are not fixed here: a city may swap the detector for its own fine-tuned weights, so the
contract pins structure, ranges and keys, and leaves the label set to the model card.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

_TS = pl.Datetime("us", "UTC")
_CAMERA = pa.Column(pl.String, pa.Check.str_matches(r"^[a-z0-9][a-z0-9-]*$"), description="Camera id")
_CLIP = pa.Column(pl.String, description="Clip name: <camera>_<local start YYYYMMDDTHHMMSS>")

CCTV_SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "detections": pa.DataFrameSchema(
        {
            "camera_id": _CAMERA,
            "clip": _CLIP,
            "frame_index": pa.Column(pl.Int32, pa.Check.ge(0)),
            "ts": pa.Column(_TS, description="Frame time"),
            "track_id": pa.Column(pl.Int64, pa.Check.ge(0), description="Tracker id, unique within the clip"),
            "class": pa.Column(pl.String, description="Detector label"),
            "confidence": pa.Column(pl.Float32, pa.Check.in_range(0, 1)),
            "x1": pa.Column(pl.Float32, pa.Check.ge(0)),
            "y1": pa.Column(pl.Float32, pa.Check.ge(0)),
            "x2": pa.Column(pl.Float32, pa.Check.ge(0)),
            "y2": pa.Column(pl.Float32, pa.Check.ge(0)),
        },
        checks=[
            pa.Check(
                lambda data: data.lazyframe.select(
                    (pl.col("x2") >= pl.col("x1")) & (pl.col("y2") >= pl.col("y1"))
                ),
                name="boxes_well_formed",
                error="x2 >= x1 and y2 >= y1",
            )
        ],
        name="cctv_detections",
        strict=True,
    ),
    "counts": pa.DataFrameSchema(
        {
            "camera_id": _CAMERA,
            "segment_id": pa.Column(pl.String, nullable=True, description="Road segment the camera covers"),
            "district_id": pa.Column(pl.String),
            "clip": _CLIP,
            "minute_start": pa.Column(_TS),
            "line_id": pa.Column(pl.String),
            "direction": pa.Column(pl.String),
            "object_class": pa.Column(pl.String),
            "crossings": pa.Column(pl.Int64, pa.Check.ge(0)),
        },
        unique=["clip", "minute_start", "line_id", "direction", "object_class"],
        name="cctv_counts",
        strict=True,
    ),
    "coverage": pa.DataFrameSchema(
        {
            "camera_id": _CAMERA,
            "segment_id": pa.Column(pl.String, nullable=True),
            "district_id": pa.Column(pl.String),
            "clip": _CLIP,
            "minute_start": pa.Column(_TS, description="A minute the clip covers, crossings or not"),
            "frames": pa.Column(pl.Int64, pa.Check.gt(0), description="Frames analysed in the minute"),
            "observed_seconds": pa.Column(
                pl.Float64,
                pa.Check.in_range(0, 60, include_min=False),
                description="Seconds of footage the analysed frames stand for (< 60 in a partial minute)",
            ),
        },
        unique=["clip", "minute_start"],
        name="cctv_coverage",
        strict=True,
    ),
    "occupancy": pa.DataFrameSchema(
        {
            "camera_id": _CAMERA,
            "segment_id": pa.Column(pl.String, nullable=True),
            "district_id": pa.Column(pl.String),
            "clip": _CLIP,
            "minute_start": pa.Column(_TS),
            "zone_id": pa.Column(pl.String),
            "object_class": pa.Column(pl.String),
            "frames": pa.Column(pl.Int64, pa.Check.ge(0)),
            "mean_occupancy": pa.Column(pl.Float64, pa.Check.ge(0)),
            "max_occupancy": pa.Column(pl.Int64, pa.Check.ge(0)),
        },
        unique=["clip", "minute_start", "zone_id", "object_class"],
        name="cctv_zone_occupancy",
        strict=True,
    ),
}

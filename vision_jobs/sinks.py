"""Output seam: a clip's tables (detections, counts, coverage, occupancy) and blurred evidence JPEGs,
which :mod:`vision_jobs.publication` writes and publishes whole per clip; quarantine records.

Nothing is ever written per frame.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import cv2
import numpy as np
import polars as pl

from cityplatform.layout import quarantine_record_key
from cityplatform.objectstore import ObjectInfo, ObjectStore
from vision_jobs.clips import ClipRef
from vision_jobs.count import ClipCounter
from vision_jobs.pipeline import DetectionColumns
from vision_jobs.privacy import AnonymisedFrame
from vision_jobs.registry import CameraConfig

TIMESTAMP = pl.Datetime("us", "UTC")
DETECTIONS_SCHEMA = {
    "camera_id": pl.Utf8,
    "clip": pl.Utf8,
    "frame_index": pl.Int32,
    "ts": TIMESTAMP,
    "track_id": pl.Int64,
    "class": pl.Utf8,
    "confidence": pl.Float32,
    "x1": pl.Float32,
    "y1": pl.Float32,
    "x2": pl.Float32,
    "y2": pl.Float32,
}
COUNTS_SCHEMA = {
    "camera_id": pl.Utf8,
    "segment_id": pl.Utf8,
    "district_id": pl.Utf8,
    "clip": pl.Utf8,
    "minute_start": TIMESTAMP,
    "line_id": pl.Utf8,
    "direction": pl.Utf8,
    "object_class": pl.Utf8,
    "crossings": pl.Int64,
}
COVERAGE_SCHEMA = {
    "camera_id": pl.Utf8,
    "segment_id": pl.Utf8,
    "district_id": pl.Utf8,
    "clip": pl.Utf8,
    "minute_start": TIMESTAMP,
    "frames": pl.Int64,
    "observed_seconds": pl.Float64,
}
OCCUPANCY_SCHEMA = {
    "camera_id": pl.Utf8,
    "segment_id": pl.Utf8,
    "district_id": pl.Utf8,
    "clip": pl.Utf8,
    "minute_start": TIMESTAMP,
    "zone_id": pl.Utf8,
    "object_class": pl.Utf8,
    "frames": pl.Int64,
    "mean_occupancy": pl.Float64,
    "max_occupancy": pl.Int64,
}


def detections_table(ref: ClipRef, columns: DetectionColumns) -> pl.DataFrame:
    if len(columns) == 0:
        return pl.DataFrame(schema=DETECTIONS_SCHEMA)
    xyxy = np.concatenate(columns.xyxy)
    return pl.DataFrame(
        {
            "camera_id": [ref.camera_id] * len(columns),
            "clip": [ref.clip] * len(columns),
            "frame_index": np.concatenate(columns.frame_index),
            "ts": columns.timestamp,
            "track_id": np.concatenate(columns.track_id),
            "class": columns.object_class,
            "confidence": np.concatenate(columns.confidence),
            "x1": xyxy[:, 0],
            "y1": xyxy[:, 1],
            "x2": xyxy[:, 2],
            "y2": xyxy[:, 3],
        },
        schema=DETECTIONS_SCHEMA,
    )


def _with_camera(
    rows: list[dict[str, object]], ref: ClipRef, camera: CameraConfig
) -> list[dict[str, object]]:
    keys = {
        "camera_id": camera.camera_id,
        "segment_id": camera.segment_id,
        "district_id": camera.district_id,
        "clip": ref.clip,
    }
    return [{**keys, **row} for row in rows]


def counts_table(ref: ClipRef, camera: CameraConfig, counter: ClipCounter) -> pl.DataFrame:
    return pl.DataFrame(_with_camera(counter.counts_per_minute(), ref, camera), schema=COUNTS_SCHEMA)


def coverage_table(
    ref: ClipRef, camera: CameraConfig, counter: ClipCounter, sampled_fps: float
) -> pl.DataFrame:
    """The minutes the clip observed, with or without a crossing: the denominator of hourly volumes."""
    rows = counter.coverage_per_minute(sampled_fps)
    return pl.DataFrame(_with_camera(rows, ref, camera), schema=COVERAGE_SCHEMA)


def occupancy_table(ref: ClipRef, camera: CameraConfig, counter: ClipCounter) -> pl.DataFrame:
    return pl.DataFrame(_with_camera(counter.occupancy_per_minute(), ref, camera), schema=OCCUPANCY_SCHEMA)


def evidence_files(ref: ClipRef, frames: list[AnonymisedFrame]) -> dict[str, bytes]:
    """A clip's anonymised frames as JPEGs, by file name; the type guarantees they went through
    privacy first."""
    files = {}
    for frame in frames:
        ok, jpeg = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, 85])
        if not ok:
            raise ValueError(f"cannot encode evidence frame {frame.frame_index} of {ref.clip}")
        files[f"frame-{frame.frame_index:06d}.jpg"] = jpeg.tobytes()
    return files


def put_quarantine(
    store: ObjectStore, bucket: str, key: str, data: bytes | None, source_uri: str, reason: str, detail: str
) -> ObjectInfo:
    """Copy the bad clip (when it could be read) and a ``.reason.json`` beside it; return the latter."""
    if data is not None:
        store.put_bytes(bucket, key, data)
    record = {
        "source": source_uri,
        "reason": reason,
        "detail": detail,
        "bytes": None if data is None else len(data),
        "quarantined_at": datetime.now(UTC).isoformat(),
        "classification": "personal-data",
    }
    return store.put_bytes(
        bucket, quarantine_record_key(key), json.dumps(record, indent=1).encode(), "application/json"
    )

"""The batch job over clips in object storage: read, analyse, write; quarantine what cannot be read.

A bad clip never stops the batch: it is copied to the quarantine bucket with a reason record and
the next clip goes on. Outputs are written only after a clip was fully analysed, so a failed clip
leaves no partial results behind.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from cityplatform.layout import unplaced_clip_key
from cityplatform.objectstore import ObjectStore, parse_s3_uri
from vision_jobs.clips import BadClipKey, ClipRef, parse_clip_uri
from vision_jobs.config import JobConfig
from vision_jobs.decode import UnreadableClip, probe
from vision_jobs.detect import Detector
from vision_jobs.pipeline import analyse_clip
from vision_jobs.registry import CameraRegistry, RegistryError
from vision_jobs.sinks import (
    counts_table,
    coverage_table,
    detections_table,
    occupancy_table,
    put_quarantine,
    replace_evidence,
)

ProgressFactory = Callable[[str, int], Callable[[int], None]]


@dataclass(frozen=True)
class ClipReport:
    """What one clip produced, or why it was quarantined: the per-run metadata an operator reads."""

    uri: str
    status: str  # "done" or "quarantined"
    reason: str | None = None
    detail: str | None = None
    camera_id: str | None = None
    frames_analysed: int = 0
    frames_per_second: float = 0.0
    seconds: float = 0.0
    detector: dict[str, str] = field(default_factory=dict)
    detections: int = 0
    crossings: dict[str, int] = field(default_factory=dict)  # "line/direction/class" -> count
    outputs: list[str] = field(default_factory=list)
    files: dict[str, dict[str, object]] = field(default_factory=dict)  # parquet URI -> rows and sha256

    @property
    def ok(self) -> bool:
        return self.status == "done"


def _quarantine(
    store: ObjectStore,
    config: JobConfig,
    uri: str,
    ref: ClipRef | None,
    data: bytes | None,
    reason: str,
    detail: str,
) -> ClipReport:
    key = ref.quarantine_key() if ref else unplaced_clip_key(_landing_key(uri))
    record = put_quarantine(store, config.quarantine_bucket, key, data, uri, reason, detail)
    return ClipReport(
        uri, "quarantined", reason, detail, ref.camera_id if ref else None, outputs=[record.uri]
    )


def _landing_key(uri: str) -> str:
    """The key of a URI, or what follows its scheme when it is not an S3 URI: never empty."""
    try:
        return parse_s3_uri(uri)[1] or "clip"
    except ValueError:
        return uri.split("://", 1)[-1].lstrip("/") or "clip"


def run_clip(
    store: ObjectStore,
    uri: str,
    registry: CameraRegistry,
    detector: Detector,
    config: JobConfig,
    camera_id: str | None = None,
    progress: ProgressFactory | None = None,
) -> ClipReport:
    """Analyse one clip from S3; write its detections, counts, coverage, occupancy and evidence to bronze."""
    started = time.perf_counter()
    try:
        ref = parse_clip_uri(uri, config.zone, registry)
    except BadClipKey as exc:
        return _quarantine(store, config, uri, None, None, exc.reason, str(exc))
    if store.stat(ref.bucket, ref.key) is None:
        return _quarantine(store, config, uri, ref, None, "missing", f"no object at {uri}")
    data = store.get_bytes(ref.bucket, ref.key)
    try:
        camera = registry.get(camera_id or ref.camera_id)
    except RegistryError as exc:
        return _quarantine(store, config, uri, ref, data, "unknown-camera", str(exc))
    ref = replace(ref, camera_id=camera.camera_id)  # an explicit camera wins over the file name
    with tempfile.TemporaryDirectory(prefix="vision-") as tmp:
        local = Path(tmp) / f"{ref.clip}{ref.suffix}"
        local.write_bytes(data)
        on_frames = None
        if progress is not None:
            on_frames = progress(ref.clip, _expected_frames(local, camera.frame_stride))
        try:
            analysis = analyse_clip(local, camera, detector, config, ref.start_utc, on_frames)
        except UnreadableClip as exc:
            return _quarantine(store, config, uri, ref, data, exc.reason, exc.detail)
    bucket = config.output_bucket
    tables = {
        "detections": detections_table(ref, analysis.detections),
        "counts": counts_table(ref, camera, analysis.counter),
        "coverage": coverage_table(ref, camera, analysis.counter, analysis.sampled_fps),
        "occupancy": occupancy_table(ref, camera, analysis.counter),
    }
    records = [store.put_parquet(bucket, ref.output_key(table), frame) for table, frame in tables.items()]
    outputs = [record.info for record in records]
    outputs += replace_evidence(store, bucket, ref, analysis.evidence)
    crossings = Counter(f"{c.line_id}/{c.direction}/{c.object_class}" for c in analysis.counter.crossings)
    return ClipReport(
        uri=uri,
        status="done",
        camera_id=camera.camera_id,
        frames_analysed=analysis.frames_analysed,
        frames_per_second=analysis.frames_per_second,
        seconds=time.perf_counter() - started,
        detector=analysis.detector,
        detections=len(analysis.detections),
        crossings=dict(sorted(crossings.items())),
        outputs=[o.uri for o in outputs],
        files={record.info.uri: record.metadata() for record in records},
    )


def _expected_frames(path: Path, stride: int) -> int:
    """Frames the progress bar expects; 1 when the header is unreadable (the clip is quarantined anyway)."""
    try:
        return -(-probe(path).frames // stride)
    except UnreadableClip:
        return 1


def run_batch(
    store: ObjectStore,
    uris: Iterable[str],
    registry: CameraRegistry,
    detector: Detector,
    config: JobConfig,
    camera_id: str | None = None,
    progress: ProgressFactory | None = None,
) -> list[ClipReport]:
    """Every clip in turn; a quarantined clip is reported and the batch goes on."""
    return [run_clip(store, uri, registry, detector, config, camera_id, progress) for uri in uris]

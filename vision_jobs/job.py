"""The batch job over clips in object storage: read, analyse, write; quarantine what cannot be read.

A batch is analysed in one go with one model (:func:`vision_jobs.pipeline.analyse_clips`): each
clip is downloaded by the thread that decodes it, and its outputs are written by its own tracker
thread as soon as it is done. A bad clip never stops the batch: it is copied to the quarantine
bucket with a reason record and the others go on. Outputs are written only after a clip was fully
analysed, and published whole (:mod:`vision_jobs.publication`), so a failed or killed run leaves
no partial results in front of readers, and a clip run again, alone or in any batch, replaces
exactly what it published before.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from cityplatform.layout import unplaced_clip_key
from cityplatform.objectstore import ObjectStore, parse_s3_uri
from vision_jobs.clips import BadClipKey, ClipRef, parse_clip_uri
from vision_jobs.config import JobConfig
from vision_jobs.decode import UnreadableClip
from vision_jobs.detect import Detector
from vision_jobs.pipeline import ClipAnalysis, ClipInput, ClipResult, ProgressFactory, analyse_clips
from vision_jobs.publication import write_clip
from vision_jobs.registry import CameraConfig, CameraRegistry, RegistryError
from vision_jobs.sinks import (
    counts_table,
    coverage_table,
    detections_table,
    evidence_files,
    occupancy_table,
    put_quarantine,
)


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


def _landing_key(uri: str) -> str:
    """The key of a URI, or what follows its scheme when it is not an S3 URI: never empty."""
    try:
        return parse_s3_uri(uri)[1] or "clip"
    except ValueError:
        return uri.split("://", 1)[-1].lstrip("/") or "clip"


def _quarantine(
    store: ObjectStore,
    config: JobConfig,
    uri: str,
    ref: ClipRef | None,
    reason: str,
    detail: str,
) -> ClipReport:
    """Copy the clip (when there is one) and its reason record to the quarantine bucket."""
    data = store.get_bytes(ref.bucket, ref.key) if ref and store.stat(ref.bucket, ref.key) else None
    key = ref.quarantine_key() if ref else unplaced_clip_key(_landing_key(uri))
    record = put_quarantine(store, config.quarantine_bucket, key, data, uri, reason, detail)
    return ClipReport(
        uri, "quarantined", reason, detail, ref.camera_id if ref else None, outputs=[record.uri]
    )


@dataclass(frozen=True)
class _Placed:
    """A clip whose key, object and camera check out: ready to analyse."""

    uri: str
    ref: ClipRef
    camera: CameraConfig


def _place(
    store: ObjectStore, uri: str, registry: CameraRegistry, config: JobConfig, camera_id: str | None
) -> _Placed | ClipReport:
    """The clip's place in time and camera, or the report of its quarantine."""
    try:
        ref = parse_clip_uri(uri, config.zone, registry)
    except BadClipKey as exc:
        return _quarantine(store, config, uri, None, exc.reason, str(exc))
    if store.stat(ref.bucket, ref.key) is None:
        return _quarantine(store, config, uri, ref, "missing", f"no object at {uri}")
    try:
        camera = registry.get(camera_id or ref.camera_id)
    except RegistryError as exc:
        return _quarantine(store, config, uri, ref, "unknown-camera", str(exc))
    # an explicit camera wins over the file name
    return _Placed(uri, replace(ref, camera_id=camera.camera_id), camera)


@contextmanager
def _download(store: ObjectStore, ref: ClipRef) -> Iterator[Path]:
    """The clip in a temp file for as long as its decoder reads it."""
    with tempfile.TemporaryDirectory(prefix="vision-") as tmp:
        local = Path(tmp) / f"{ref.clip}{ref.suffix}"
        local.write_bytes(store.get_bytes(ref.bucket, ref.key))
        yield local


def _write(store: ObjectStore, config: JobConfig, clip: _Placed, result: ClipResult) -> ClipReport:
    """Write a clip's outputs (each replaces the last run's), or quarantine it."""
    if isinstance(result, UnreadableClip):
        return _quarantine(store, config, clip.uri, clip.ref, result.reason, result.detail)
    analysis: ClipAnalysis = result
    ref, camera, bucket = clip.ref, clip.camera, config.output_bucket
    tables = {
        "detections": detections_table(ref, analysis.detections),
        "counts": counts_table(ref, camera, analysis.counter),
        "coverage": coverage_table(ref, camera, analysis.counter, analysis.sampled_fps),
        "occupancy": occupancy_table(ref, camera, analysis.counter),
    }
    evidence = evidence_files(ref, analysis.evidence)
    published = write_clip(store, bucket, ref.name, tables, evidence, camera.camera_id)
    records = list(published.files.values())
    crossings = Counter(f"{c.line_id}/{c.direction}/{c.object_class}" for c in analysis.counter.crossings)
    return ClipReport(
        uri=clip.uri,
        status="done",
        camera_id=camera.camera_id,
        frames_analysed=analysis.frames_analysed,
        frames_per_second=analysis.frames_per_second,
        seconds=analysis.seconds,
        detector=analysis.detector,
        detections=len(analysis.detections),
        crossings=dict(sorted(crossings.items())),
        outputs=[r.info.uri for r in records] + [f"s3://{bucket}/{key}" for key in published.evidence],
        files={record.info.uri: record.metadata() for record in records},
    )


def run_batch(
    store: ObjectStore,
    uris: Iterable[str],
    registry: CameraRegistry,
    detector: Detector,
    config: JobConfig,
    camera_id: str | None = None,
    progress: ProgressFactory | None = None,
) -> list[ClipReport]:
    """Every clip, analysed together with one detector; a report per clip, in the order given."""
    placed = [_place(store, uri, registry, config, camera_id) for uri in uris]
    clips = [p for p in placed if isinstance(p, _Placed)]
    inputs = [
        ClipInput(c.ref.clip, partial(_download, store, c.ref), c.camera, c.ref.start_utc) for c in clips
    ]
    written: dict[int, ClipReport] = {}

    def write(index: int, result: ClipResult) -> None:
        written[index] = _write(store, config, clips[index], result)

    analyse_clips(inputs, detector, config, on_done=write, progress=progress)  # every clip done, or raises
    reports = iter(written[i] for i in range(len(clips)))
    return [p if isinstance(p, ClipReport) else next(reports) for p in placed]


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
    (report,) = run_batch(store, [uri], registry, detector, config, camera_id, progress)
    return report

"""One clip on local disk through decode -> detect -> track -> count, with evidence picked and blurred.

No object storage here: the S3 job, the evaluation and the benchmark all call this same function.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from vision_jobs.config import JobConfig
from vision_jobs.count import ClipCounter
from vision_jobs.decode import ClipInfo, UnreadableClip, batches, model_size, probe, read_frames
from vision_jobs.detect import Detector
from vision_jobs.detections import Detections, Tracks
from vision_jobs.privacy import AnonymisedFrame, anonymise
from vision_jobs.registry import CameraConfig
from vision_jobs.track import ObjectTracker


@dataclass
class DetectionColumns:
    """Tracked boxes of every analysed frame, columnar, in the clip's full-resolution pixels."""

    frame_index: list[np.ndarray] = field(default_factory=list)
    timestamp: list[datetime] = field(default_factory=list)
    track_id: list[np.ndarray] = field(default_factory=list)
    object_class: list[str] = field(default_factory=list)
    confidence: list[np.ndarray] = field(default_factory=list)
    xyxy: list[np.ndarray] = field(default_factory=list)

    def add(
        self,
        frame_index: int,
        timestamp: datetime,
        tracks: Tracks,
        classes: list[str],
        scale: np.ndarray,
        bounds: np.ndarray,
    ) -> None:
        """``bounds`` is (w, h, w, h): predicted track boxes may run off the frame; keep the visible part."""
        n = len(tracks)
        if n == 0:
            return
        self.frame_index.append(np.full(n, frame_index, np.int32))
        self.timestamp.extend([timestamp] * n)
        self.track_id.append(tracks.track_id)
        self.object_class.extend(classes)
        self.confidence.append(tracks.confidence)
        self.xyxy.append(np.clip(tracks.xyxy * scale, 0, bounds))

    def __len__(self) -> int:
        return len(self.timestamp)


@dataclass
class ClipAnalysis:
    info: ClipInfo
    frames_analysed: int
    sampled_fps: float
    seconds: float
    detections: DetectionColumns
    counter: ClipCounter
    evidence: list[AnonymisedFrame]
    detector: dict[str, str]

    @property
    def frames_per_second(self) -> float:
        return self.frames_analysed / self.seconds if self.seconds else 0.0


@dataclass(order=True)
class _EvidenceCandidate:
    objects: int
    frame_index: int
    image: np.ndarray = field(compare=False)
    boxes: np.ndarray = field(compare=False)
    classes: list[str] = field(compare=False)


def _privacy_boxes(
    detections: Detections, tracks: Tracks, names: dict[int, str], scale: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """Every box the detector or the tracker saw in the frame: both are blurred in evidence."""
    boxes = np.concatenate([detections.xyxy, tracks.xyxy]) * scale
    classes = [names.get(int(c), str(c)) for c in np.concatenate([detections.class_id, tracks.class_id])]
    return boxes, classes


def analyse_clip(
    path: Path,
    camera: CameraConfig,
    detector: Detector,
    config: JobConfig,
    clip_start: datetime,
    on_frames: Callable[[int], None] | None = None,
) -> ClipAnalysis:
    """Analyse every ``camera.frame_stride``-th frame; raise :class:`UnreadableClip` for a bad clip."""
    started = time.perf_counter()
    info = probe(path)
    if info.declared_seconds and info.seconds < config.truncation_tolerance * info.declared_seconds:
        raise UnreadableClip(
            "truncated",
            f"the stream holds {info.seconds:.2f} s of the {info.declared_seconds:.2f} s its header declares",
        )
    stride = camera.frame_stride
    sampled_fps = info.fps / stride
    size = model_size(info.width, info.height, config.model.imgsz)
    # from the model-sized frame back to the clip's pixels, per box coordinate (x1, y1, x2, y2)
    scale = np.array([info.width / size[0], info.height / size[1]] * 2, np.float32)
    bounds = np.array([info.width, info.height] * 2, np.float32)
    names = detector.class_names
    tracker = ObjectTracker(config.tracker, sampled_fps)
    counter = ClipCounter(camera, size, config.counting, names)
    columns = DetectionColumns()
    evidence: list[_EvidenceCandidate] = []
    analysed, last_index = 0, -1
    for batch in batches(read_frames(path, stride, config.model.imgsz), config.model.batch_size):
        for frame, detections in zip(batch, detector.detect([f.image for f in batch]), strict=True):
            tracks = tracker.update(detections, frame.image)
            timestamp = clip_start + timedelta(seconds=frame.time)
            counter.update(frame.index, timestamp, tracks)
            classes = [names.get(int(c), str(c)) for c in tracks.class_id]
            columns.add(frame.index, timestamp, tracks, classes, scale, bounds)
            if config.evidence_frames:
                boxes, classes = _privacy_boxes(detections, tracks, names, scale)
                candidate = _EvidenceCandidate(len(tracks), -frame.index, frame.original, boxes, classes)
                if len(evidence) < config.evidence_frames:
                    heapq.heappush(evidence, candidate)
                elif candidate > evidence[0]:
                    heapq.heapreplace(evidence, candidate)
            last_index = frame.index
        analysed += len(batch)
        if on_frames is not None:
            on_frames(len(batch))
    if analysed == 0:
        raise UnreadableClip("no-frames", "the container opened but no frame could be decoded")
    counter.close()
    decoded = last_index + 1
    if decoded + stride <= config.truncation_tolerance * info.frames:
        raise UnreadableClip("truncated", f"decoded {decoded} of the {info.frames} frames the stream holds")
    kept = [anonymise(-c.frame_index, c.image, c.boxes, c.classes) for c in sorted(evidence, reverse=True)]
    return ClipAnalysis(
        info=info,
        frames_analysed=analysed,
        sampled_fps=sampled_fps,
        seconds=time.perf_counter() - started,
        detections=columns,
        counter=counter,
        evidence=kept,
        detector=detector.description,
    )

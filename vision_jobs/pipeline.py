"""Clips on local disk through decode -> detect -> track -> count, with evidence picked and blurred.

Many clips share one detector, as DeepStream's stream muxer does: decoder threads read several clips
at once into one queue; the calling thread batches their frames (same model size only) into
``predict`` calls of exactly ``batch_size`` frames, a short batch padded with copies of its last
frame, so every frame's detections are bit for bit those of a single-clip run; a tracker thread per
clip tracks, counts and picks evidence, so inference never waits for them. No object storage here:
the S3 job, the evaluation and the benchmark all call these functions.
"""

from __future__ import annotations

import heapq
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np

from vision_jobs.config import JobConfig
from vision_jobs.count import ClipCounter
from vision_jobs.decode import (
    ClipInfo,
    Frame,
    UnreadableClip,
    check_resolution,
    model_size,
    probe,
    read_frames,
)
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


ProgressFactory = Callable[[str, int], Callable[[int], None]]  # (clip, frames expected) -> on_frames(n)


@dataclass(frozen=True)
class ClipInput:
    """One clip to analyse; ``open`` yields its local file (a download, say) for as long as it is read."""

    name: str
    open: Callable[[], AbstractContextManager[Path]]
    camera: CameraConfig
    clip_start: datetime

    @classmethod
    def local(cls, path: Path, camera: CameraConfig, clip_start: datetime) -> ClipInput:
        return cls(path.stem, lambda: nullcontext(path), camera, clip_start)


class _ClipState:
    """Tracking, counting and evidence of one clip: fed frame by frame, in order, by its own thread."""

    def __init__(
        self,
        info: ClipInfo,
        camera: CameraConfig,
        detector: Detector,
        config: JobConfig,
        clip_start: datetime,
    ) -> None:
        self.started = time.perf_counter()
        self.info, self.config, self.clip_start = info, config, clip_start
        self.stride = camera.frame_stride
        size = model_size(info.width, info.height, config.model.imgsz)
        # from the model-sized frame back to the clip's pixels, per box coordinate (x1, y1, x2, y2)
        self.scale = np.array([info.width / size[0], info.height / size[1]] * 2, np.float32)
        self.bounds = np.array([info.width, info.height] * 2, np.float32)
        self.names = detector.class_names
        self.description = detector.description
        self.tracker = ObjectTracker(config.tracker, info.fps / self.stride)
        self.counter = ClipCounter(camera, size, config.counting, self.names)
        self.columns = DetectionColumns()
        self.evidence: list[_EvidenceCandidate] = []
        self.analysed, self.last_index = 0, -1

    def update(self, frame: Frame, detections: Detections) -> None:
        names, scale = self.names, self.scale
        tracks = self.tracker.update(detections, frame.image)
        timestamp = self.clip_start + timedelta(seconds=frame.time)  # the stream's own time
        self.counter.update(frame.index, timestamp, tracks)
        classes = [names.get(int(c), str(c)) for c in tracks.class_id]
        self.columns.add(frame.index, timestamp, tracks, classes, scale, self.bounds)
        if self.config.evidence_frames:
            boxes, classes = _privacy_boxes(detections, tracks, names, scale)
            candidate = _EvidenceCandidate(len(tracks), -frame.index, frame.original, boxes, classes)
            if len(self.evidence) < self.config.evidence_frames:
                heapq.heappush(self.evidence, candidate)
            elif candidate > self.evidence[0]:
                heapq.heapreplace(self.evidence, candidate)
        self.last_index = frame.index
        self.analysed += 1

    def finish(self) -> ClipAnalysis:
        """The clip's analysis; :class:`UnreadableClip` when it held no frame or stopped short."""
        if self.analysed == 0:
            raise UnreadableClip("no-frames", "the container opened but no frame could be decoded")
        self.counter.close()
        decoded, held = self.last_index + 1, self.info.frames
        if decoded + self.stride <= self.config.truncation_tolerance * held:
            raise UnreadableClip("truncated", f"decoded {decoded} of the {held} frames the stream holds")
        kept = [
            anonymise(-c.frame_index, c.image, c.boxes, c.classes)
            for c in sorted(self.evidence, reverse=True)
        ]
        return ClipAnalysis(
            info=self.info,
            frames_analysed=self.analysed,
            sampled_fps=self.info.fps / self.stride,
            seconds=time.perf_counter() - self.started,
            detections=self.columns,
            counter=self.counter,
            evidence=kept,
            detector=self.description,
        )


ClipResult = ClipAnalysis | UnreadableClip
_END = object()  # the last message to a clip's tracker thread: finish the clip
_ABORT = object()  # the analysis failed elsewhere: stop without finishing (nothing is written)


class _Tracker:
    """The thread that owns one clip's :class:`_ClipState`; its queue never blocks the inference."""

    def __init__(
        self,
        state: _ClipState,
        on_frames: Callable[[int], None] | None,
        on_done: Callable[[ClipResult], None],
        failures: list[BaseException],
    ) -> None:
        self.inbox: queue.SimpleQueue[tuple[Frame, Detections] | object] = queue.SimpleQueue()
        self.thread = threading.Thread(
            target=self._run, args=(state, on_frames, on_done, failures), daemon=True
        )
        self.thread.start()

    def _run(
        self,
        state: _ClipState,
        on_frames: Callable[[int], None] | None,
        on_done: Callable[[ClipResult], None],
        failures: list[BaseException],
    ) -> None:
        try:
            while (item := self.inbox.get()) is not _END:
                if item is _ABORT:
                    return
                if isinstance(item, UnreadableClip):  # rejected partway by its decoder: that is its result
                    on_done(item)
                    return
                frame, detections = item  # type: ignore[misc]
                state.update(frame, detections)
                if on_frames is not None:
                    on_frames(1)
            try:
                result: ClipResult = state.finish()
            except UnreadableClip as exc:
                result = exc
            on_done(result)
        except BaseException as exc:  # a bug, not a bad clip: the caller re-raises it
            failures.append(exc)


def truncation(info: ClipInfo, config: JobConfig) -> None:
    """Raise ``truncated`` before decoding when the stream holds much less time than its header
    declares (judged from what the stream really holds, never from a frame count in the header)."""
    if info.declared_seconds and info.seconds < config.truncation_tolerance * info.declared_seconds:
        raise UnreadableClip(
            "truncated",
            f"the stream holds {info.seconds:.2f} s of the {info.declared_seconds:.2f} s its header declares",
        )


def analyse_clips(
    clips: Sequence[ClipInput],
    detector: Detector,
    config: JobConfig,
    on_done: Callable[[int, ClipResult], None] | None = None,
    progress: ProgressFactory | None = None,
) -> list[ClipResult]:
    """Analyse every ``camera.frame_stride``-th frame of each clip with one detector.

    A clip the decoder or the checks reject comes back as its :class:`UnreadableClip`, the others
    go on. ``on_done(i, result)`` runs in clip ``i``'s tracker thread as soon as that clip is done
    (the S3 job writes its outputs there), so writes overlap the inference of the next clips.
    """
    results: list[ClipResult | None] = [None] * len(clips)
    failures: list[BaseException] = []

    def done(index: int, result: ClipResult) -> None:
        if on_done is not None:
            on_done(index, result)
        results[index] = result

    with _Decoders(clips, config, progress) as messages:
        _Muxer(clips, detector, config, done, failures).run(messages)
    if failures:
        raise failures[0]
    return [r for r in results if r is not None]


class _Muxer:
    """The inference loop: full batches of one shape as frames arrive, short ones only at the end."""

    def __init__(
        self,
        clips: Sequence[ClipInput],
        detector: Detector,
        config: JobConfig,
        done: Callable[[int, ClipResult], None],
        failures: list[BaseException],
    ) -> None:
        self.clips, self.detector, self.config, self.done, self.failures = (
            clips,
            detector,
            config,
            done,
            failures,
        )
        self.trackers: dict[int, _Tracker] = {}
        self.pending: dict[tuple[int, ...], list[tuple[int, Frame]]] = {}
        self.waiting = [0] * len(clips)  # frames of each clip decoded but not yet detected
        self.ended: set[int] = set()  # clips fully decoded whose last frames are still pending
        self.rejected: dict[int, UnreadableClip] = {}  # clips their decoder gave up partway, and why
        self.shape_of: dict[int, tuple[int, ...]] = {}

    def run(self, messages: Iterator[tuple[str, int, object]]) -> None:
        try:
            for message in messages:
                if self.failures:
                    raise self.failures[0]
                self._handle(*message)
            for shape in list(self.pending):
                self._detect(shape)
        except BaseException:
            for tracker in self.trackers.values():
                tracker.inbox.put(_ABORT)
            raise
        for tracker in self.trackers.values():
            tracker.thread.join()

    def _handle(self, kind: str, index: int, payload: object) -> None:
        if kind == "start":
            info, on_frames = payload  # type: ignore[misc]
            clip = self.clips[index]
            state = _ClipState(info, clip.camera, self.detector, self.config, clip.clip_start)
            self.trackers[index] = _Tracker(state, on_frames, partial(self.done, index), self.failures)
        elif kind == "frame":
            frame: Frame = payload  # type: ignore[assignment]
            shape = frame.image.shape
            previous = self.shape_of.get(index, shape)
            if previous != shape and previous in self.pending:
                self._detect(previous)  # a clip that changes size mid-stream: keep its frames in order
            self.shape_of[index] = shape
            self.pending.setdefault(shape, []).append((index, frame))
            self.waiting[index] += 1
            if len(self.pending[shape]) == self.config.model.batch_size:
                self._detect(shape)
        elif kind == "end":
            if isinstance(payload, UnreadableClip):
                self.rejected[index] = payload
            self.ended.add(index)
            self._finish_ended()
        else:  # "unreadable": the clip never started; nothing of it is pending
            self.done(index, payload)  # type: ignore[arg-type]

    def _detect(self, shape: tuple[int, ...]) -> None:
        batch = self.pending.pop(shape)
        images = [frame.image for _, frame in batch]
        # a fixed batch size: every frame gets the numbers it gets in any other run
        images += [images[-1]] * (self.config.model.batch_size - len(images))
        for (index, frame), detections in zip(batch, self.detector.detect(images), strict=False):
            self.trackers[index].inbox.put((frame, detections))
            self.waiting[index] -= 1
        self._finish_ended()

    def _finish_ended(self) -> None:
        for index in [i for i in self.ended if not self.waiting[i]]:
            self.ended.discard(index)
            self.trackers[index].inbox.put(self.rejected.pop(index, _END))


class _Decoders:
    """``config.decode_workers`` threads reading clips in order into one bounded queue of messages:
    ``("start", i, (info, on_frames))``, then ``("frame", i, frame)``..., then ``("end", i, None)``
    (``("end", i, exc)`` for a clip rejected partway); or ``("unreadable", i, exc)`` for a clip that
    cannot be opened."""

    def __init__(
        self, clips: Sequence[ClipInput], config: JobConfig, progress: ProgressFactory | None
    ) -> None:
        self.clips, self.config, self.progress = clips, config, progress
        self.queue: queue.Queue[tuple[str, int, object]] = queue.Queue(maxsize=4 * config.model.batch_size)
        self.stop = threading.Event()
        self.pool = ThreadPoolExecutor(config.decode_workers, thread_name_prefix="decode")

    def __enter__(self) -> Iterator[tuple[str, int, object]]:
        futures = [self.pool.submit(self._decode, i) for i in range(len(self.clips))]
        return self._messages(futures)

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _messages(self, futures: list) -> Iterator[tuple[str, int, object]]:
        finished = 0
        while finished < len(self.clips):
            message = self.queue.get()
            if message[0] == "failed":
                raise message[2]  # type: ignore[misc]
            finished += message[0] in ("end", "unreadable")
            yield message

    def _put(self, message: tuple[str, int, object]) -> bool:
        """False once the analysis stopped (a failure elsewhere): the decoder gives up its clip."""
        while not self.stop.is_set():
            try:
                self.queue.put(message, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _decode(self, index: int) -> None:
        clip, stride = self.clips[index], self.clips[index].camera.frame_stride
        try:
            with clip.open() as path:
                try:
                    info = probe(path)
                    check_resolution(info.width, info.height, self.config.max_resolution)
                    truncation(info, self.config)
                except UnreadableClip as exc:
                    self._put(("unreadable", index, exc))
                    return
                on_frames = None
                if self.progress is not None:
                    on_frames = self.progress(clip.name, -(-info.frames // stride) or 1)
                if not self._put(("start", index, (info, on_frames))):
                    return
                frames = read_frames(path, stride, self.config.model.imgsz, self.config.max_resolution)
                try:
                    for frame in frames:
                        if not self._put(("frame", index, frame)):
                            return
                except UnreadableClip as exc:  # rejected partway: the clip ends here with its reason
                    self._put(("end", index, exc))
                    return
            self._put(("end", index, None))
        except BaseException as exc:  # a failed download or a bug: the whole call fails with it
            self._put(("failed", index, exc))


def analyse_clip(
    path: Path,
    camera: CameraConfig,
    detector: Detector,
    config: JobConfig,
    clip_start: datetime,
    progress: ProgressFactory | None = None,
) -> ClipAnalysis:
    """One local clip; raise :class:`UnreadableClip` for a bad clip."""
    (result,) = analyse_clips(
        [ClipInput.local(path, camera, clip_start)], detector, config, progress=progress
    )
    if isinstance(result, UnreadableClip):
        raise result
    return result

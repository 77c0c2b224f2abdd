"""Counting accuracy on held-out simulator clips: the job's counts against the simulator's truth.

The score per clip and class group (vehicles, pedestrians) is the absolute line-crossing error,
summed over every line and direction, as a percentage of the true total. Held-out clips use seeds
the training command never renders (:data:`citysim.cctv.dataset.HELD_OUT_SEED_BASE` and up).
A trace says why a count is off, for whoever trains the next detector or tunes the tracker: each
true crossing is matched to the counted crossing of a track that covered the object around it, and
what is left over is listed (:func:`trace_crossings`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import lap
import numpy as np
import polars as pl
import torch
from torchvision.ops import box_iou

from citysim.cctv.clip import ClipSpec, ClipTruth, render_clip
from citysim.cctv.dataset import HELD_OUT_SEED_BASE, varied_spec
from vision_jobs.config import JobConfig
from vision_jobs.count import Crossing
from vision_jobs.detect import Detector
from vision_jobs.pipeline import DetectionColumns, analyse_clip
from vision_jobs.registry import CameraRegistry

CLASS_GROUPS: dict[str, frozenset[str]] = {
    "vehicles": frozenset({"car", "bus", "truck", "motorbike", "motorcycle"}),
    "pedestrians": frozenset({"person"}),
}
# A tracked box stands for a true object when they overlap this much.
MATCH_IOU = 0.5
# How far apart (in seconds) a counted crossing and the true one it accounts for may be: the counter
# waits for the ground point to leave the dead band, and truth and track boxes differ a little.
MATCH_WINDOW_S = 2.0


def class_group(object_class: str) -> str | None:
    return next((group for group, classes in CLASS_GROUPS.items() if object_class in classes), None)


@dataclass(frozen=True)
class GroupScore:
    true_total: int
    counted_total: int
    absolute_error: int

    @property
    def error_pct(self) -> float:
        if self.true_total == 0:
            return 0.0 if self.absolute_error == 0 else float("inf")
        return 100.0 * self.absolute_error / self.true_total


@dataclass(frozen=True)
class MissedCrossing:
    """A true crossing that no counted crossing accounts for."""

    object_id: int
    object_class: str
    line_id: str
    direction: str
    frame_index: int
    frames_in_view: int  # analysed frames within the match window in which the object is drawn
    frames_tracked: int  # ... of which a track's box covers it
    tracks: tuple[int, ...]  # the tracks that covered it, most frames first
    tracked_before: int | None  # the last frame up to the crossing in which a track covered it
    tracked_after: int | None  # the first such frame from the crossing on
    # A count by one of those tracks on the same line and direction, but outside the match window:
    # the crossing was counted early or late (the totals, and so the score, show no error).
    counted_off_window: Crossing | None = None

    def describe(self) -> str:
        """No track: the detector lost it; several: the tracker broke it up; one: it never counted."""
        what = f"{self.object_class} {self.line_id} {self.direction} at frame {self.frame_index}"
        if (count := self.counted_off_window) is not None:
            off = count.frame_index - self.frame_index
            return (
                f"{'late' if off > 0 else 'early'} {what} (object {self.object_id}): counted at frame "
                f"{count.frame_index} by track {count.track_id}, {abs(off)} frames off"
            )
        tracks = ", ".join(map(str, self.tracks)) or "none"
        before, after = ("-" if f is None else f for f in (self.tracked_before, self.tracked_after))
        gap = f"last before it {before}, first after it {after}"
        return (
            f"missed {what} (object {self.object_id}): tracked in {self.frames_tracked} of "
            f"{self.frames_in_view} analysed frames around it ({gap}); tracks {tracks}"
        )


@dataclass(frozen=True)
class CrossingTrace:
    missed: list[MissedCrossing]  # with those counted outside the match window (early or late)
    extra: list[Crossing]  # counted crossings that no true crossing accounts for

    def lines(self) -> list[str]:
        extra = [
            f"extra {c.object_class} {c.line_id} {c.direction} at frame {c.frame_index} (track {c.track_id})"
            for c in self.extra
        ]
        return [m.describe() for m in self.missed] + extra


def trace_crossings(
    truth: ClipTruth,
    detections: DetectionColumns,
    counted: list[Crossing],
    stride: int,
    window_frames: int,
) -> CrossingTrace:
    """Pair true crossings with the counted crossings that account for them.

    A count accounts for a true crossing on the same line, in the same direction and class group,
    by a track whose box covered the object (IoU >= :data:`MATCH_IOU`) in an analysed frame (every
    ``stride``-th) within ``window_frames`` of it. Counts within the window are paired first, then a
    crossing left over is paired with a left-over count of such a track at any time (early or late).
    Each pairing is an optimal assignment (:func:`_pair`), not first-come: a count goes to the
    crossing it is nearest to, so a stray count just before a crossing is not taken for it and the
    right one left over as extra.
    """
    frames = np.concatenate(detections.frame_index) if detections.frame_index else np.zeros(0, np.int32)
    track_ids = np.concatenate(detections.track_id) if detections.track_id else np.zeros(0, np.int64)
    boxes = np.concatenate(detections.xyxy) if detections.xyxy else np.zeros((0, 4), np.float32)
    rows_of_frame = {int(f): np.flatnonzero(frames == f) for f in np.unique(frames)}
    objects = truth.boxes.filter((pl.col("kind") == "object") & (pl.col("frame_index") % stride == 0))
    candidates = []
    for crossing in truth.crossings.sort("frame_index").iter_rows(named=True):
        around = objects.filter(
            (pl.col("object_id") == crossing["object_id"])
            & ((pl.col("frame_index") - crossing["frame_index"]).abs() <= window_frames)
        )
        covering: Counter[int] = Counter()
        covered_frames = []
        for frame, *box in around.select("frame_index", "x1", "y1", "x2", "y2").iter_rows():
            rows = rows_of_frame.get(frame)
            if rows is None:
                continue
            overlap = box_iou(torch.tensor([box]), torch.from_numpy(boxes[rows]))[0]
            best = int(overlap.argmax())
            if overlap[best] >= MATCH_IOU:
                covering[int(track_ids[rows[best]])] += 1
                covered_frames.append(frame)
        candidates.append(
            MissedCrossing(
                object_id=crossing["object_id"],
                object_class=crossing["object_class"],
                line_id=crossing["line_id"],
                direction=crossing["direction"],
                frame_index=crossing["frame_index"],
                frames_in_view=around.height,
                frames_tracked=sum(covering.values()),
                tracks=tuple(track for track, _ in covering.most_common()),
                tracked_before=max((f for f in covered_frames if f <= crossing["frame_index"]), default=None),
                tracked_after=min((f for f in covered_frames if f >= crossing["frame_index"]), default=None),
            )
        )
    counts = sorted(counted, key=lambda c: c.frame_index)
    in_window = _pair(candidates, counts, window_frames)
    missed = [m for i, m in enumerate(candidates) if i not in in_window]
    unused = [c for j, c in enumerate(counts) if j not in in_window.values()]
    off_window = _pair(missed, unused, None)
    for i, j in off_window.items():
        missed[i] = replace(missed[i], counted_off_window=unused[j])
    extra = [c for j, c in enumerate(unused) if j not in off_window.values()]
    return CrossingTrace(missed, extra)


def _pair(crossings: list[MissedCrossing], counts: list[Crossing], window: int | None) -> dict[int, int]:
    """Crossing index -> count index: the most crossings accounted for, then the least summed time
    offset, solved as a linear assignment by ``lap`` (Jonker-Volgenant). A pair is allowed when the
    count is by a covering track on the same line, direction and class group, and (unless
    ``window`` is None) within ``window`` frames; crossings and counts may stay unpaired."""
    offsets = np.abs(
        np.subtract.outer([m.frame_index for m in crossings], [c.frame_index for c in counts])
    ).reshape(len(crossings), len(counts))
    allowed = np.array(
        [
            [
                c.track_id in m.tracks and _same_crossing(c, m.line_id, m.direction, m.object_class)
                for c in counts
            ]
            for m in crossings
        ],
        dtype=bool,
    ).reshape(offsets.shape)
    if window is not None:
        allowed &= offsets <= window
    if not allowed.any():
        return {}
    # Leaving a crossing and a count unpaired costs ``limit``, more than any pair's offset and more
    # than the offsets of all pairs together, so one more pair always wins over a closer fit.
    limit = float((offsets[allowed].max() + 1) * (min(offsets.shape) + 1))
    cost = np.where(allowed, offsets, 2 * limit).astype(np.float64)
    _, count_of, _ = lap.lapjv(cost, extend_cost=True, cost_limit=limit)
    return {i: int(j) for i, j in enumerate(count_of) if j >= 0 and allowed[i, j]}


def _same_crossing(count: Crossing, line_id: str, direction: str, object_class: str) -> bool:
    """Same line, direction and class group (a bus counted as a truck is still the bus)."""
    return (count.line_id, count.direction, class_group(count.object_class)) == (
        line_id,
        direction,
        class_group(object_class),
    )


@dataclass(frozen=True)
class ClipScore:
    clip: str
    camera_id: str
    conditions: str
    frames_analysed: int
    frames_per_second: float
    groups: dict[str, GroupScore]
    trace: CrossingTrace

    def within(self, max_error_pct: float) -> bool:
        return all(g.error_pct <= max_error_pct for g in self.groups.values())


def score_counts(
    truth: dict[tuple[str, str, str], int], counted: dict[tuple[str, str, str], int]
) -> dict[str, GroupScore]:
    """Per class group: sum over (line, direction) of |counted - true|, and both totals."""
    scores = {}
    for group, classes in CLASS_GROUPS.items():
        true_by_line: Counter[tuple[str, str]] = Counter()
        counted_by_line: Counter[tuple[str, str]] = Counter()
        for (line, direction, cls), n in truth.items():
            if cls in classes:
                true_by_line[(line, direction)] += n
        for (line, direction, cls), n in counted.items():
            if cls in classes:
                counted_by_line[(line, direction)] += n
        keys = set(true_by_line) | set(counted_by_line)
        error = sum(abs(counted_by_line[k] - true_by_line[k]) for k in keys)
        scores[group] = GroupScore(sum(true_by_line.values()), sum(counted_by_line.values()), error)
    return scores


def held_out_specs(clips: int, seconds: float, first_seed: int = HELD_OUT_SEED_BASE) -> list[ClipSpec]:
    if first_seed < HELD_OUT_SEED_BASE:
        raise ValueError(f"held-out seeds start at {HELD_OUT_SEED_BASE}; lower seeds are training data")
    return [varied_spec(first_seed + i, seconds) for i in range(clips)]


def _describe(spec: ClipSpec) -> str:
    c = spec.conditions
    return (
        ("night" if c.night else "day")
        + (f", rain {c.rain:.1f}" if c.rain else "")
        + f", shake {c.jitter_px:.1f}px"
    )


def evaluate_clip(
    spec: ClipSpec, workdir: Path, registry: CameraRegistry, detector: Detector, config: JobConfig
) -> ClipScore:
    """Render one held-out clip, run the analysis on the encoded file, score its counts."""
    video = workdir / f"{spec.clip_name}.mp4"
    truth = render_clip(spec, video)
    camera = registry.get(spec.camera_id)
    analysis = analyse_clip(video, camera, detector, config, spec.start)
    crossings = analysis.counter.crossings
    counted = Counter((c.line_id, c.direction, c.object_class) for c in crossings)
    window = round(MATCH_WINDOW_S * analysis.info.fps)
    return ClipScore(
        clip=spec.clip_name,
        camera_id=spec.camera_id,
        conditions=_describe(spec),
        frames_analysed=analysis.frames_analysed,
        frames_per_second=analysis.frames_per_second,
        groups=score_counts(truth.counts(), dict(counted)),
        trace=trace_crossings(truth, analysis.detections, crossings, camera.frame_stride, window),
    )


def evaluate(
    specs: Iterable[ClipSpec],
    workdir: Path,
    registry: CameraRegistry,
    detector: Detector,
    config: JobConfig,
    on_clip: Callable[[ClipScore], None] | None = None,
) -> list[ClipScore]:
    scores = []
    for spec in specs:
        score = evaluate_clip(spec, workdir, registry, detector, config)
        scores.append(score)
        if on_clip is not None:
            on_clip(score)
    return scores

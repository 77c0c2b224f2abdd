"""Counting accuracy on held-out simulator clips: the job's counts against the simulator's truth.

The score per clip and class group (vehicles, pedestrians) is the absolute line-crossing error,
summed over every line and direction, as a percentage of the true total. Held-out clips use seeds
the training command never renders (:data:`citysim.cctv.dataset.HELD_OUT_SEED_BASE` and up).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from citysim.cctv.clip import ClipSpec, render_clip
from citysim.cctv.dataset import HELD_OUT_SEED_BASE, varied_spec
from vision_jobs.config import JobConfig
from vision_jobs.detect import Detector
from vision_jobs.pipeline import analyse_clip
from vision_jobs.registry import CameraRegistry

CLASS_GROUPS: dict[str, frozenset[str]] = {
    "vehicles": frozenset({"car", "bus", "truck", "motorbike", "motorcycle"}),
    "pedestrians": frozenset({"person"}),
}


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
class ClipScore:
    clip: str
    camera_id: str
    conditions: str
    frames_analysed: int
    frames_per_second: float
    groups: dict[str, GroupScore]

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
    analysis = analyse_clip(video, registry.get(spec.camera_id), detector, config, spec.start)
    counted = Counter((c.line_id, c.direction, c.object_class) for c in analysis.counter.crossings)
    return ClipScore(
        clip=spec.clip_name,
        camera_id=spec.camera_id,
        conditions=_describe(spec),
        frames_analysed=analysis.frames_analysed,
        frames_per_second=analysis.frames_per_second,
        groups=score_counts(truth.counts(), dict(counted)),
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

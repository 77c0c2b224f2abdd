"""Line crossings and zone occupancy on synthetic tracks: no model, no video."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from vision_jobs.config import CountConfig, ModelConfig
from vision_jobs.count import ClipCounter, LineCounter, ZoneOccupancy
from vision_jobs.detect import ClassMap
from vision_jobs.detections import Detections, Tracks
from vision_jobs.registry import CameraConfig, CountingLine, Zone

FRAME = (200, 100)
START = datetime(2025, 5, 12, 0, 0, 50, tzinfo=UTC)
VERTICAL = CountingLine(
    line_id="road",
    start=(0.5, 0.2),
    end=(0.5, 0.8),
    directions={"eastbound": (1, 0), "westbound": (-1, 0)},
)
NAMES = {0: "car", 1: "person"}


def tracks(rows: list[tuple[int, float, float, int]]) -> Tracks:
    """(track id, ground x, ground y, class id) -> 10x10 boxes standing on that point."""
    if not rows:
        return Tracks.empty()
    ids, xs, ys, cls = (np.array(col) for col in zip(*rows, strict=True))
    xyxy = np.stack([xs - 5, ys - 10, xs + 5, ys], axis=1).astype(np.float32)
    return Tracks(xyxy, ids.astype(np.int64), np.full(len(ids), 0.9, np.float32), cls.astype(np.int32))


def camera(lines: list[CountingLine], zones: list[Zone] | None = None) -> CameraConfig:
    return CameraConfig(
        camera_id="cam-x", segment_id="RS001", district_id="D01", lines=lines, zones=zones or []
    )


def run(counter: ClipCounter, frames: list[list[tuple[int, float, float, int]]], step_s: float = 1.0) -> None:
    for index, rows in enumerate(frames):
        counter.update(index, START + timedelta(seconds=index * step_s), tracks(rows))


def test_counts_each_direction_once() -> None:
    counter = ClipCounter(camera([VERTICAL]), FRAME, CountConfig(dead_band=0.01), NAMES)
    # track 1 drives east across x=100, track 2 drives west, track 3 stays on one side
    xs_east = [60, 80, 95, 105, 120, 140]
    xs_west = [150, 130, 110, 90, 70, 50]
    frames = [
        [(1, e, 50, 0), (2, w, 60, 0), (3, 20 + i, 55, 0)]
        for i, (e, w) in enumerate(zip(xs_east, xs_west, strict=True))
    ]
    run(counter, frames)
    found = sorted((c.direction, c.track_id) for c in counter.crossings)
    assert found == [("eastbound", 1), ("westbound", 2)]


def test_jitter_inside_the_dead_band_is_not_a_crossing() -> None:
    counter = ClipCounter(camera([VERTICAL]), FRAME, CountConfig(dead_band=0.02), NAMES)  # 4.5 px band
    run(counter, [[(1, 100 + dx, 50, 0)] for dx in (-3, 3, -4, 4, -2, 2)])
    assert counter.crossings == []


def test_a_track_swinging_across_the_line_counts_once_in_its_first_direction() -> None:
    """Beyond the dead band a wobbling box flips sides many times; it is still one vehicle."""
    counter = ClipCounter(camera([VERTICAL]), FRAME, CountConfig(dead_band=0.0), NAMES)
    run(counter, [[(1, 100 + dx, 50, 0)] for dx in (-3, 3, -4, 4, -6, 6)])
    assert [(c.track_id, c.direction) for c in counter.crossings] == [(1, "eastbound")]


def test_a_counted_track_that_goes_far_past_the_line_counts_again_when_it_crosses_back() -> None:
    """A U-turn, or a track id handed to a person on the far kerb: each crossing is someone's.

    The re-arm distance is 0.1 of the 224 px diagonal here (22 px): a swing of 16 px past the line
    does not re-arm, walking 40 px on does.
    """
    counting = CountConfig(dead_band=0.01, rearm_distance=0.1)
    swing = ClipCounter(camera([VERTICAL]), FRAME, counting, NAMES)
    run(swing, [[(1, x, 50, 0)] for x in (80, 116, 84, 116, 84)])
    assert [c.direction for c in swing.crossings] == ["eastbound"]
    walk_on = ClipCounter(camera([VERTICAL]), FRAME, counting, NAMES)
    run(walk_on, [[(1, x, 50, 0)] for x in (80, 110, 140, 110, 80, 110)])
    assert [c.direction for c in walk_on.crossings] == ["eastbound", "westbound"]


def test_each_line_counts_a_track_once_on_its_own() -> None:
    second = CountingLine(
        **{**VERTICAL.model_dump(), "line_id": "stop-line", "start": (0.7, 0.2), "end": (0.7, 0.8)}
    )
    counter = ClipCounter(camera([VERTICAL, second]), FRAME, CountConfig(dead_band=0.01), NAMES)
    run(counter, [[(1, x, 50, 0)] for x in (60, 90, 110, 130, 150, 130, 150)])
    assert [(c.line_id, c.direction) for c in counter.crossings] == [
        ("road", "eastbound"),
        ("stop-line", "eastbound"),
    ]


def test_a_track_that_ends_the_clip_just_past_the_line_counts_when_the_clip_closes() -> None:
    """Inside the dead band (2.2 px here) at the last frame: past the line counts, short of it does not."""
    counter = ClipCounter(camera([VERTICAL]), FRAME, CountConfig(dead_band=0.01), NAMES)
    run(counter, [[(1, x1, 50, 0), (2, x2, 60, 0)] for x1, x2 in ((60, 60), (80, 80), (101, 99))])
    assert counter.crossings == []
    (crossing,) = counter.close()
    assert (crossing.track_id, crossing.direction, crossing.frame_index) == (1, "eastbound", 2)
    assert counter.crossings == [crossing] and counter.close() == []


def test_a_track_that_starts_the_clip_in_the_dead_band_takes_the_side_it_stands_on() -> None:
    counter = ClipCounter(camera([VERTICAL]), FRAME, CountConfig(dead_band=0.01), NAMES)
    run(counter, [[(1, 99, 50, 0), (2, 101, 60, 0)], [(1, 120, 50, 0), (2, 120, 60, 0)]])
    assert [(c.track_id, c.direction) for c in counter.crossings] == [(1, "eastbound")]


def test_passing_beyond_the_end_of_the_segment_is_not_counted() -> None:
    counter = ClipCounter(camera([VERTICAL]), FRAME, CountConfig(dead_band=0.01), NAMES)
    run(counter, [[(1, x, 95, 0)] for x in (60, 90, 110, 140)])  # the line ends at y=80
    assert counter.crossings == []


def test_line_class_filter_and_majority_class() -> None:
    cars_only = CountingLine(**{**VERTICAL.model_dump(), "classes": frozenset({"car"})})
    counter = ClipCounter(camera([cars_only]), FRAME, CountConfig(dead_band=0.01), NAMES)
    # track 1 is a car that is misread as a person once, right as it crosses; track 2 is a person
    frames = [
        [(1, 60, 50, 0), (2, 60, 70, 1)],
        [(1, 90, 50, 0), (2, 90, 70, 1)],
        [(1, 110, 50, 1), (2, 110, 70, 1)],
    ]
    run(counter, frames)
    assert [(c.track_id, c.object_class) for c in counter.crossings] == [(1, "car")]


def test_counts_roll_up_per_minute() -> None:
    counter = ClipCounter(camera([VERTICAL]), FRAME, CountConfig(dead_band=0.01), NAMES)
    # START is 00:00:50; track 1 crosses at 00:00:52, track 2 at 00:01:10
    frames: list[list[tuple[int, float, float, int]]] = [[] for _ in range(25)]
    frames[1], frames[2] = [(1, 80, 50, 0)], [(1, 120, 50, 0)]
    frames[19], frames[20] = [(2, 120, 50, 0)], [(2, 80, 50, 0)]
    run(counter, frames)
    rows = counter.counts_per_minute()
    assert [(r["minute_start"].minute, r["direction"], r["crossings"]) for r in rows] == [
        (0, "eastbound", 1),
        (1, "westbound", 1),
    ]


def test_coverage_lists_every_minute_seen_with_the_seconds_of_a_partial_one() -> None:
    """A clip from 00:00:50 to 00:03:20 at 2 analysed frames a second: 10 s of the first minute,
    two whole minutes without a single crossing, and 20 s of the last one."""
    counter = ClipCounter(camera([VERTICAL]), FRAME, CountConfig(dead_band=0.01), NAMES)
    run(counter, [[] for _ in range(300)], step_s=0.5)
    rows = counter.coverage_per_minute(sampled_fps=2.0)
    assert counter.counts_per_minute() == []
    assert [(r["minute_start"].minute, r["frames"], r["observed_seconds"]) for r in rows] == [
        (0, 20, 10.0),
        (1, 120, 60.0),
        (2, 120, 60.0),
        (3, 40, 20.0),
    ]


def test_zone_occupancy_mean_and_peak_per_minute() -> None:
    zone = Zone(zone_id="box", polygon=[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)])  # left half
    counter = ClipCounter(camera([], [zone]), FRAME, CountConfig(dead_band=0.01), NAMES)
    run(counter, [[(1, 20, 50, 1), (2, 40, 50, 1)], [(1, 30, 50, 1), (2, 150, 50, 1)], []], step_s=2)
    (row,) = counter.occupancy_per_minute()
    assert (row["zone_id"], row["object_class"], row["frames"], row["max_occupancy"]) == (
        "box",
        "person",
        3,
        2,
    )
    assert row["mean_occupancy"] == pytest.approx(1.0)


def test_occupancy_of_a_concave_zone() -> None:
    l_shape = [(0.0, 0.0), (1.0, 0.0), (1.0, 0.4), (0.4, 0.4), (0.4, 1.0), (0.0, 1.0)]
    zone = ZoneOccupancy(Zone(zone_id="kerb", polygon=l_shape), (10, 10))
    anchors = np.array([(2, 2), (8, 2), (8, 8), (2, 8)], float)  # the third is in the notch
    assert zone.occupancy(anchors, ["person", "car", "bus", "person"]) == {"person": 2, "car": 1}


def test_direction_names_follow_the_vectors_not_the_drawing_order() -> None:
    reversed_line = CountingLine(
        line_id="road",
        start=(0.5, 0.8),
        end=(0.5, 0.2),
        directions={"eastbound": (1, 0), "westbound": (-1, 0)},
    )
    counter = LineCounter(reversed_line, FRAME, CountConfig(dead_band=0.01))
    ids, cls = np.array([1]), ["car"]
    counter.update(ids, np.array([[80.0, 50.0]]), cls, 0, START)
    (crossing,) = counter.update(ids, np.array([[120.0, 50.0]]), cls, 1, START)
    assert crossing.direction == "eastbound"


def test_coco_motorcycle_and_bicycle_are_counted_on_the_lines_configured_for_them() -> None:
    """COCO-named detections through the class map: a motorcycle is the platform's motorbike on the
    road line, a bicycle counts on the bike line only, and an unmapped class (a dog) never arrives."""
    coco = {0: "person", 1: "bicycle", 2: "car", 3: "motorcycle", 16: "dog"}
    classes = ClassMap(coco, ModelConfig().class_map)
    lines = [
        VERTICAL.model_copy(update={"classes": frozenset({"car", "motorbike"})}),
        VERTICAL.model_copy(update={"line_id": "bike", "classes": frozenset({"bicycle"})}),
    ]
    counter = ClipCounter(camera(lines), FRAME, CountConfig(dead_band=0.01), classes.names)
    for index, x in enumerate([60, 80, 95, 105, 120, 140]):
        raw = Detections(
            xyxy=np.array(
                [[x - 5, 40, x + 5, 50], [x - 5, 60, x + 5, 70], [x - 5, 80, x + 5, 90]], np.float32
            ),
            confidence=np.full(3, 0.9, np.float32),
            class_id=np.array([3, 1, 16], np.int32),  # motorcycle, bicycle, dog
        )
        mapped = classes.apply(raw)
        assert len(mapped) == 2
        ids = np.arange(1, len(mapped) + 1, dtype=np.int64)
        counter.update(
            index,
            START + timedelta(seconds=index),
            Tracks(mapped.xyxy, ids, mapped.confidence, mapped.class_id),
        )
    found = sorted((c.line_id, c.direction, c.object_class) for c in counter.crossings)
    assert found == [("bike", "eastbound", "bicycle"), ("road", "eastbound", "motorbike")]

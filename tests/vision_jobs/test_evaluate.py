"""Scores and traces of counting errors on synthetic truth and tracks: no model, no video."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from citysim.cctv import HELD_OUT_SEED_BASE, ClipSpec
from citysim.cctv.clip import BOX_SCHEMA, ClipTruth
from vision_jobs.count import Crossing
from vision_jobs.evaluate import score_counts, trace_crossings
from vision_jobs.pipeline import DetectionColumns

START = datetime(2025, 5, 12, tzinfo=UTC)
# A person walks down from y=10 to y=70 over frames 0-60 and crosses the crosswalk line at frame 30.
CROSSING_FRAME = 30


def person_box(frame: int, dx: float = 0.0) -> tuple[float, float, float, float]:
    y = 10.0 + frame
    return (100.0 + dx, y - 20.0, 110.0 + dx, y)


def truth() -> ClipTruth:
    boxes = [(f, 7, "person", "object", *person_box(f)) for f in range(61)]
    crossings = [(CROSSING_FRAME, 7, "person", "crosswalk", "southbound")]
    return ClipTruth(
        spec=ClipSpec(camera_id="cam-01", seconds=2, seed=HELD_OUT_SEED_BASE),
        frames=61,
        boxes=pl.DataFrame(boxes, schema=BOX_SCHEMA, orient="row"),
        crossings=pl.DataFrame(
            crossings,
            schema=["frame_index", "object_id", "object_class", "line_id", "direction"],
            orient="row",
        ),
    )


def tracked(frames_by_track: dict[int, range], dx: float = 0.0) -> DetectionColumns:
    """One box per analysed frame for each track, on the person (``dx`` moves it aside)."""
    columns = DetectionColumns()
    for track, frames in frames_by_track.items():
        for frame in frames:
            columns.frame_index.append(np.array([frame], np.int32))
            columns.timestamp.append(START)
            columns.track_id.append(np.array([track], np.int64))
            columns.object_class.append("person")
            columns.confidence.append(np.array([0.9], np.float32))
            columns.xyxy.append(np.array([person_box(frame, dx)], np.float32))
    return columns


def counted(track: int, frame: int = 32, direction: str = "southbound") -> Crossing:
    return Crossing("crosswalk", direction, "person", track, frame, START)


def test_a_crossing_counted_by_the_track_that_covered_the_person_leaves_nothing_to_explain() -> None:
    trace = trace_crossings(truth(), tracked({4: range(0, 61, 2)}), [counted(4)], stride=2, window_frames=60)
    assert trace.missed == [] and trace.extra == []
    assert trace.lines() == []


def test_the_count_nearest_the_crossing_accounts_for_it_and_an_earlier_stray_one_is_extra() -> None:
    # both counts are by the covering track, on the line, in the direction and within the window;
    # taking the first in time order would explain the crossing by the stray count at frame 0
    stray, near = counted(4, frame=0), counted(4, frame=CROSSING_FRAME + 2)
    trace = trace_crossings(truth(), tracked({4: range(0, 61, 2)}), [stray, near], stride=2, window_frames=60)
    assert trace.missed == [] and trace.extra == [stray]


def test_a_track_broken_at_the_line_is_a_miss_naming_both_fragments() -> None:
    columns = tracked({4: range(0, 24, 2), 9: range(36, 61, 2)})
    trace = trace_crossings(truth(), columns, [], stride=2, window_frames=60)
    (miss,) = trace.missed
    assert (miss.object_id, miss.line_id, miss.direction) == (7, "crosswalk", "southbound")
    assert miss.frame_index == CROSSING_FRAME
    assert miss.frames_in_view == 31  # frames 0, 2, ... 60
    assert miss.frames_tracked == 12 + 13
    assert miss.tracks == (9, 4)  # most frames first
    assert (miss.tracked_before, miss.tracked_after) == (22, 36)
    assert trace.lines() == [
        "missed person crosswalk southbound at frame 30 (object 7): tracked in 25 of 31 analysed "
        "frames around it (last before it 22, first after it 36); tracks 9, 4"
    ]


def test_a_person_the_detector_lost_is_a_miss_with_no_track() -> None:
    (miss,) = trace_crossings(truth(), DetectionColumns(), [], stride=2, window_frames=60).missed
    assert (miss.frames_tracked, miss.tracks, miss.tracked_before, miss.tracked_after) == (0, (), None, None)
    assert "(last before it -, first after it -); tracks none" in miss.describe()


def test_a_count_by_another_track_is_extra_and_does_not_explain_the_crossing() -> None:
    # track 4 is a box 40 px aside (someone else); its count is in the right line and direction
    columns = tracked({4: range(0, 61, 2)}, dx=40.0)
    trace = trace_crossings(truth(), columns, [counted(4)], stride=2, window_frames=60)
    assert [m.object_id for m in trace.missed] == [7]
    assert trace.extra == [counted(4)]
    # the count-only score sees no error, which is why the trace exists
    one = {("crosswalk", "southbound", "person"): 1}
    assert score_counts(one, one)["pedestrians"].absolute_error == 0


def test_a_count_in_the_wrong_direction_does_not_explain_the_crossing() -> None:
    crossing = counted(4, direction="northbound")
    trace = trace_crossings(truth(), tracked({4: range(0, 61, 2)}), [crossing], stride=2, window_frames=60)
    assert len(trace.missed) == 1 and trace.extra == [crossing]
    assert trace.missed[0].counted_off_window is None


def test_a_count_by_the_covering_track_outside_the_window_is_named_late_not_missed_and_extra() -> None:
    late = counted(4, frame=CROSSING_FRAME + 61)
    trace = trace_crossings(truth(), tracked({4: range(0, 61, 2)}), [late], stride=2, window_frames=60)
    (miss,) = trace.missed
    assert miss.counted_off_window == late and trace.extra == []
    assert trace.lines() == [
        "late person crosswalk southbound at frame 30 (object 7): "
        "counted at frame 91 by track 4, 61 frames off"
    ]
    other = counted(5, frame=CROSSING_FRAME + 61)  # a track that never covered the person
    trace = trace_crossings(truth(), tracked({4: range(0, 61, 2)}), [other], stride=2, window_frames=60)
    assert trace.missed[0].counted_off_window is None and trace.extra == [other]

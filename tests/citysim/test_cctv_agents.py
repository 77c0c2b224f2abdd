"""Pedestrians on the simulated crosswalk keep their distance, as people do, so no two share one box."""

from __future__ import annotations

import numpy as np

from citysim.cctv.agents import WALKING_GAP_M, Pedestrian, Street, TrafficLevel
from citysim.cctv.scene import SCENES

NOBODY_ARRIVES = TrafficLevel(vehicles_per_s_per_lane=0.0, pedestrians_per_s_per_entry=0.0)


def empty_street() -> Street:
    street = Street(SCENES["cam-02"], 640, 360, 30.0, np.random.default_rng(0), NOBODY_ARRIVES)
    t = street.traffic
    street._signal_offset_s = t.vehicle_green_s + t.all_red_s + 0.5  # the walk signal just turned on
    return street


def walker(object_id: int, x: float, y: float, speed_ms: float, crossing: bool) -> Pedestrian:
    return Pedestrian(
        object_id=object_id,
        x=x,
        y=y,
        width=16.0,
        height=38.0,
        speed=speed_ms * 20.0,
        waypoints=[(x, 330.0, True)],
        colour=(90, 90, 90),
        crossing=crossing,
    )


def test_a_faster_walker_queues_behind_the_one_ahead_instead_of_walking_through() -> None:
    street = empty_street()
    leader, follower = walker(1, 450.0, 160.0, 1.1, True), walker(2, 450.0, 130.0, 1.6, True)
    street.pedestrians = [leader, follower]
    gaps = []
    for _ in range(90):
        street.step()
        gaps.append((leader.y - follower.y) / (WALKING_GAP_M * street.ppm * street.perspective(follower.y)))
    assert min(gaps) >= 0.95  # never closer than the walking gap (a step's rounding aside)...
    assert min(gaps) <= 1.05  # ...and it did catch up: the gap is what held it back


def test_a_walker_steps_off_beside_the_people_already_crossing_not_into_them() -> None:
    street = empty_street()
    crossing, waiting = walker(1, 450.0, 118.0, 1.3, True), walker(2, 450.0, 110.0, 1.3, False)
    street.pedestrians = [crossing, waiting]
    street.step()
    assert waiting.crossing
    assert abs(waiting.waypoints[0][0] - crossing.x) >= crossing.width

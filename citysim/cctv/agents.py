"""Road users and how they move: car-following vehicles, a signalled crosswalk, walking pedestrians.

Motion is simple but plausible (speeds in metres per second, headway keeping, stopping at the stop
line on red, pedestrians waiting for the walk signal) so that queues, stops and overlaps happen the
way a counting job meets them on a real street.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from citysim.cctv.scene import Lane, SceneLayout


@dataclass(frozen=True)
class ObjectKind:
    """Size in metres (side view, wheels to roof) and speed range in metres per second."""

    name: str
    length_m: tuple[float, float]
    height_m: float
    speed_ms: tuple[float, float]


# Order defines the class ids of the training labels.
CLASS_NAMES: tuple[str, ...] = ("car", "bus", "truck", "motorbike", "person")
VEHICLE_CLASSES: frozenset[str] = frozenset({"car", "bus", "truck", "motorbike"})
PEDESTRIAN_CLASSES: frozenset[str] = frozenset({"person"})

KINDS: dict[str, ObjectKind] = {
    "car": ObjectKind("car", (4.0, 4.8), 2.1, (9.0, 13.0)),
    "bus": ObjectKind("bus", (10.5, 12.0), 3.4, (7.0, 10.0)),
    "truck": ObjectKind("truck", (7.0, 8.5), 3.2, (7.0, 10.5)),
    "motorbike": ObjectKind("motorbike", (2.0, 2.3), 1.9, (9.0, 13.0)),
    "person": ObjectKind("person", (0.75, 0.9), 1.95, (1.1, 1.6)),
}
VEHICLE_MIX: dict[str, float] = {"car": 0.66, "bus": 0.08, "truck": 0.11, "motorbike": 0.15}
# Gap a walker keeps to the back of the person ahead in its lane: people queue and spread out across
# a crosswalk, they do not walk through each other (which would put two people in one image box).
WALKING_GAP_M = 1.0


@dataclass(frozen=True)
class TrafficLevel:
    """How busy the street is: arrivals per second per lane and per sidewalk entry."""

    vehicles_per_s_per_lane: float = 0.40
    pedestrians_per_s_per_entry: float = 0.10
    share_crossing: float = 0.8
    vehicle_green_s: float = 22.0
    walk_s: float = 12.0
    all_red_s: float = 3.0


@dataclass
class Vehicle:
    object_id: int
    kind: str
    lane: Lane
    front_x: float  # pixels
    length: float
    height: float
    desired_speed: float  # pixels per second
    speed: float
    colour: tuple[int, int, int]
    plate_text: str

    @property
    def rear_x(self) -> float:
        return self.front_x - self.lane.heading * self.length

    def box(self, ground_y: float) -> tuple[float, float, float, float]:
        x1, x2 = sorted((self.front_x, self.rear_x))
        return (x1, ground_y - self.height, x2, ground_y)


@dataclass
class Pedestrian:
    object_id: int
    x: float
    y: float
    width: float
    height: float
    speed: float
    waypoints: list[tuple[float, float, bool]]  # (x, y, needs walk signal to start this leg)
    colour: tuple[int, int, int]
    reaction_s: float = 0.0  # how long after the walk signal this person steps off the kerb
    crossing: bool = False
    step_phase: float = 0.0

    def box(self) -> tuple[float, float, float, float]:
        return (self.x - self.width / 2, self.y - self.height, self.x + self.width / 2, self.y)


@dataclass
class Street:
    """The state of one simulated street, advanced one frame at a time."""

    layout: SceneLayout
    width: int
    height: int
    fps: float
    rng: np.random.Generator
    traffic: TrafficLevel = field(default_factory=TrafficLevel)
    vehicles: list[Vehicle] = field(default_factory=list)
    pedestrians: list[Pedestrian] = field(default_factory=list)
    time_s: float = 0.0
    _next_id: int = 1
    _signal_offset_s: float = 0.0

    def __post_init__(self) -> None:
        self.ppm = self.layout.px_per_metre_at_width_640 * self.width / 640
        self._signal_offset_s = float(self.rng.uniform(0, self._cycle_s))

    # ---- signal -------------------------------------------------------------------------------
    @property
    def _cycle_s(self) -> float:
        t = self.traffic
        return t.vehicle_green_s + 2 * t.all_red_s + t.walk_s

    def _phase_time(self) -> float:
        return (self.time_s + self._signal_offset_s) % self._cycle_s

    def vehicles_green(self) -> bool:
        return self._phase_time() < self.traffic.vehicle_green_s

    def walk_remaining_s(self) -> float:
        """Seconds of walk signal left, 0 when pedestrians must not start crossing."""
        t = self.traffic
        start = t.vehicle_green_s + t.all_red_s
        phase = self._phase_time()
        return max(0.0, start + t.walk_s - phase) if phase >= start else 0.0

    # ---- geometry helpers ---------------------------------------------------------------------
    def px(self, x: float) -> float:
        return x * self.width

    def py(self, y: float) -> float:
        return y * self.height

    def perspective(self, ground_y_px: float) -> float:
        """Nearer (lower) objects look a little bigger."""
        return 0.8 + 0.35 * ground_y_px / self.height

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    # ---- spawning -----------------------------------------------------------------------------
    def _spawn_vehicles(self, dt: float) -> None:
        for lane in self.layout.lanes:
            if self.rng.random() >= self.traffic.vehicles_per_s_per_lane * dt:
                continue
            kind_name = str(self.rng.choice(list(VEHICLE_MIX), p=list(VEHICLE_MIX.values())))
            kind = KINDS[kind_name]
            scale = self.perspective(self.py(lane.ground_y))
            length = float(self.rng.uniform(*kind.length_m)) * self.ppm * scale
            entry = -2.0 if lane.heading > 0 else self.width + 2.0
            last = [v for v in self.vehicles if v.lane is lane]
            if last:
                gap_to_last = lane.heading * (last[-1].rear_x - entry)
                if gap_to_last < 3.0 * self.ppm:
                    continue
            speed = float(self.rng.uniform(*kind.speed_ms)) * self.ppm
            self.vehicles.append(
                Vehicle(
                    object_id=self._new_id(),
                    kind=kind_name,
                    lane=lane,
                    front_x=entry,
                    length=length,
                    height=kind.height_m * self.ppm * scale,
                    desired_speed=speed,
                    speed=speed,
                    colour=tuple(int(c) for c in self.rng.integers(30, 230, 3)),  # type: ignore[arg-type]
                    plate_text=f"{self.rng.integers(10, 99)} {self.rng.integers(1000, 9999)}",
                )
            )

    def _spawn_pedestrians(self, dt: float) -> None:
        lay = self.layout
        sidewalks = {"top": lay.top_sidewalk, "bottom": lay.bottom_sidewalk}
        for side in ("top", "bottom"):
            for from_left in (True, False):
                if self.rng.random() >= self.traffic.pedestrians_per_s_per_entry * dt:
                    continue
                y = self.py(float(self.rng.uniform(*sidewalks[side])))
                x = -6.0 if from_left else self.width + 6.0
                waypoints = self._pedestrian_route(side, y, from_left, sidewalks)
                scale = self.perspective(y)
                kind = KINDS["person"]
                self.pedestrians.append(
                    Pedestrian(
                        object_id=self._new_id(),
                        x=x,
                        y=y,
                        width=float(self.rng.uniform(*kind.length_m)) * self.ppm * scale,
                        height=kind.height_m * self.ppm * scale * float(self.rng.uniform(0.9, 1.05)),
                        speed=float(self.rng.uniform(*kind.speed_ms)) * self.ppm,
                        waypoints=waypoints,
                        reaction_s=float(self.rng.uniform(0.0, 5.0)),
                        colour=tuple(int(c) for c in self.rng.integers(20, 235, 3)),  # type: ignore[arg-type]
                    )
                )

    def _pedestrian_route(
        self, side: str, y: float, from_left: bool, sidewalks: dict[str, tuple[float, float]]
    ) -> list[tuple[float, float, bool]]:
        if self.rng.random() >= self.traffic.share_crossing:
            return [(self.width + 8.0 if from_left else -8.0, y, False)]
        exit_x = -8.0 if self.rng.random() < 0.5 else self.width + 8.0
        southbound = side == "top"
        lane_x = float(self.rng.uniform(*self._crosswalk_half(southbound)))
        other = "bottom" if southbound else "top"
        # People wait spread over the sidewalk's depth, not all on the kerb line.
        near = sidewalks[side]
        wait_y = self.py(float(self.rng.uniform(*near)))
        far_y = self.py(float(self.rng.uniform(*sidewalks[other])))
        return [(lane_x, wait_y, False), (lane_x, far_y, True), (exit_x, far_y, False)]

    # ---- motion -------------------------------------------------------------------------------
    def _stop_line_x(self, lane: Lane) -> float:
        x0, x1 = self.px(self.layout.crosswalk[0]), self.px(self.layout.crosswalk[1])
        setback = 1.5 * self.ppm
        return x0 - setback if lane.heading > 0 else x1 + setback

    def _crosswalk_occupied(self) -> bool:
        top, bottom = self.py(self.layout.road_top) - 4, self.py(self.layout.road_bottom) + 4
        return any(p.crossing and top <= p.y <= bottom for p in self.pedestrians)

    def _move_vehicles(self, dt: float) -> None:
        signal_red = not self.vehicles_green()
        people_crossing = self._crosswalk_occupied()
        min_gap = 2.0 * self.ppm
        hard_brake = 7.0 * self.ppm
        for lane in self.layout.lanes:
            in_lane = [v for v in self.vehicles if v.lane is lane]
            for i, vehicle in enumerate(in_lane):
                gap = float("inf")
                if i > 0:
                    gap = lane.heading * (in_lane[i - 1].rear_x - vehicle.front_x)
                to_stop = lane.heading * (self._stop_line_x(lane) - vehicle.front_x)
                # On an amber a driver too close to stop goes on; for people on the crosswalk everyone stops.
                can_stop = to_stop > vehicle.speed**2 / (2 * hard_brake)
                must_stop = to_stop > -1.0 and ((signal_red and can_stop) or people_crossing)
                if must_stop:
                    gap = min(gap, to_stop + min_gap)
                target = min(vehicle.desired_speed, max(0.0, (gap - min_gap) / 0.9))
                brake = float("inf") if must_stop and people_crossing else hard_brake * dt
                change = float(np.clip(target - vehicle.speed, -brake, 2.5 * self.ppm * dt))
                vehicle.speed = max(0.0, vehicle.speed + change)
                vehicle.front_x += lane.heading * vehicle.speed * dt
        self.vehicles = [v for v in self.vehicles if -v.length - 10 < v.front_x < self.width + v.length + 10]

    def _vehicle_on_crosswalk(self) -> bool:
        x0, x1 = self.px(self.layout.crosswalk[0]), self.px(self.layout.crosswalk[1])
        return any(min(v.front_x, v.rear_x) < x1 and max(v.front_x, v.rear_x) > x0 for v in self.vehicles)

    def _crosswalk_half(self, southbound: bool) -> tuple[float, float]:
        """Keep right: facing down the screen a walker's right is screen-west."""
        x0, x1 = self.px(self.layout.crosswalk[0]), self.px(self.layout.crosswalk[1])
        mid = (x0 + x1) / 2
        margin = 0.06 * (x1 - x0)
        return (x0 + margin, mid - margin) if southbound else (mid + margin, x1 - margin)

    def _walking_gap_px(self, ped: Pedestrian) -> float:
        return WALKING_GAP_M * self.ppm * self.perspective(ped.y)

    def _same_way_neighbours(self, ped: Pedestrian, southbound: bool) -> list[Pedestrian]:
        return [
            other
            for other in self.pedestrians
            if other is not ped and other.crossing and (other.waypoints[0][1] > other.y) == southbound
        ]

    def _step_off_lane(self, ped: Pedestrian, southbound: bool, planned_x: float) -> float:
        """The lateral position with most room beside the people already crossing near the kerb.

        Deterministic (no random draw), so the rest of a clip's random stream is unchanged.
        """
        low, high = self._crosswalk_half(southbound)
        near = [
            other.x
            for other in self._same_way_neighbours(ped, southbound)
            if abs(other.y - ped.y) < 3 * self._walking_gap_px(ped)
        ]
        if not near:
            return planned_x
        candidates = np.linspace(low, high, 9)
        clearance = np.min(np.abs(candidates[:, None] - np.array(near)[None, :]), axis=1)
        best = candidates[clearance >= clearance.max() - 1e-6]
        return float(best[np.argmin(np.abs(best - planned_x))])

    def _room_ahead(self, ped: Pedestrian, southbound: bool) -> float:
        """How far this walker may move before closing to the walking gap behind someone in its lane."""
        room = float("inf")
        sign = 1.0 if southbound else -1.0
        for other in self._same_way_neighbours(ped, southbound):
            ahead = sign * (other.y - ped.y)
            if ahead > 0 and abs(other.x - ped.x) < (ped.width + other.width) / 2:
                room = min(room, ahead - self._walking_gap_px(ped))
        return max(0.0, room)

    def _move_pedestrians(self, dt: float) -> None:
        walk_left = 0.0 if self._vehicle_on_crosswalk() else self.walk_remaining_s()
        road_px = self.py(self.layout.bottom_sidewalk[0] - self.layout.top_sidewalk[1])
        kept = []
        for ped in self.pedestrians:
            if not ped.waypoints:
                continue
            tx, ty, needs_walk = ped.waypoints[0]
            if needs_walk and not ped.crossing:
                walk_elapsed = self.traffic.walk_s - walk_left
                if walk_left * ped.speed < road_px * 1.1 or walk_elapsed < ped.reaction_s:
                    kept.append(ped)
                    continue
                tx = self._step_off_lane(ped, ty > ped.y, tx)
                ped.waypoints[0] = (tx, ty, needs_walk)
                ped.crossing = True
            dx, dy = tx - ped.x, ty - ped.y
            dist = float(np.hypot(dx, dy))
            step = ped.speed * dt
            if ped.crossing:
                step = min(step, self._room_ahead(ped, ty > ped.y))
            if dist <= step:
                ped.x, ped.y = tx, ty
                ped.waypoints.pop(0)
                ped.crossing = False
            elif step > 0:
                ped.x += dx / dist * step
                ped.y += dy / dist * step
            ped.step_phase += step / max(ped.height * 0.35, 1.0)
            if ped.waypoints:
                kept.append(ped)
        self.pedestrians = kept

    def step(self) -> None:
        dt = 1.0 / self.fps
        self._spawn_vehicles(dt)
        self._spawn_pedestrians(dt)
        self._move_vehicles(dt)
        self._move_pedestrians(dt)
        self.time_s += dt

    def ground_points(self) -> dict[int, tuple[str, float, float]]:
        """Each visible road user's ground contact point (bottom centre), in pixels: what lines count."""
        points = {}
        for v in self.vehicles:
            points[v.object_id] = (v.kind, (v.front_x + v.rear_x) / 2, self.py(v.lane.ground_y))
        for p in self.pedestrians:
            points[p.object_id] = ("person", p.x, p.y)
        return points

"""Where things are in a simulated camera's view: road, lanes, crosswalk, sidewalks, counting lines.

Geometry is kept in normalised image coordinates (0..1, y down) so that the same scene renders at
any resolution and the vision job's camera registry can state the same lines without pixel sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Point = tuple[float, float]


@dataclass(frozen=True)
class CountingLine:
    """A segment objects are counted across; each direction is named by a motion vector."""

    line_id: str
    start: Point
    end: Point
    directions: dict[str, Point]


@dataclass(frozen=True)
class Lane:
    """A one-way traffic lane: vehicles' wheels touch the ground at ``ground_y``."""

    ground_y: float
    heading: int  # +1 moves towards larger x (east on screen), -1 towards smaller x


@dataclass(frozen=True)
class SceneLayout:
    """A two-lane road crossed by a signalled crosswalk, seen from a pole beside it."""

    camera_id: str
    road_top: float = 0.32
    road_bottom: float = 0.74
    top_sidewalk: tuple[float, float] = (0.26, 0.31)
    bottom_sidewalk: tuple[float, float] = (0.78, 0.93)
    lanes: tuple[Lane, ...] = (Lane(0.50, -1), Lane(0.665, +1))
    crosswalk: tuple[float, float] = (0.22, 0.42)
    px_per_metre_at_width_640: float = 20.0
    lines: tuple[CountingLine, ...] = field(default_factory=tuple)

    @property
    def lamp_post_x(self) -> float:
        """A pole just past the crosswalk: a fixed occluder that never hides a counting line."""
        return min(self.crosswalk[1] + 0.08, 0.95)

    @property
    def crosswalk_line_y(self) -> float:
        """Between the lanes, so vehicles' ground points never cross it."""
        return (self.lanes[0].ground_y + self.lanes[1].ground_y) / 2


def _default_lines(
    vehicle_line_x: float, crosswalk: tuple[float, float], road: tuple[float, float], mid_y: float
) -> tuple[CountingLine, ...]:
    return (
        CountingLine(
            "road",
            (vehicle_line_x, road[0]),
            (vehicle_line_x, road[1]),
            {"eastbound": (1.0, 0.0), "westbound": (-1.0, 0.0)},
        ),
        CountingLine(
            "crosswalk",
            (crosswalk[0], mid_y),
            (crosswalk[1], mid_y),
            {"southbound": (0.0, 1.0), "northbound": (0.0, -1.0)},
        ),
    )


def scene_for(camera_id: str, crosswalk: tuple[float, float], vehicle_line_x: float) -> SceneLayout:
    """A preset scene whose counting lines sit on the road and across the crosswalk."""
    base = SceneLayout(camera_id=camera_id, crosswalk=crosswalk)
    lines = _default_lines(
        vehicle_line_x, crosswalk, (base.road_top, base.road_bottom), base.crosswalk_line_y
    )
    return SceneLayout(camera_id=camera_id, crosswalk=crosswalk, lines=lines)


# The simulated cameras; vision_jobs/cameras.yaml states the same lines for the same ids.
SCENES: dict[str, SceneLayout] = {
    "cam-01": scene_for("cam-01", crosswalk=(0.22, 0.42), vehicle_line_x=0.64),
    "cam-02": scene_for("cam-02", crosswalk=(0.56, 0.76), vehicle_line_x=0.38),
    "cam-03": scene_for("cam-03", crosswalk=(0.14, 0.34), vehicle_line_x=0.60),
}

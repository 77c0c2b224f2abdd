"""The camera registry: where each camera looks, what it counts, and which road it covers.

Lines and zones are in normalised image coordinates (0..1, origin top-left, y down) so a registry
entry survives a change of stream resolution. A direction is named by a motion vector: an object
crossing a line while moving roughly along ``eastbound: [1, 0]`` is counted as eastbound.
Loading validates everything up front and names the file, the entry and the field that is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cityplatform.yamlfiles import RegistryError, YamlDocument, load_model

DEFAULT_REGISTRY = Path(__file__).with_name("cameras.yaml")

Coordinate = Annotated[float, Field(ge=0.0, le=1.0)]
Point = tuple[Coordinate, Coordinate]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CountingLine(_Strict):
    line_id: str = Field(min_length=1)
    start: Point
    end: Point
    directions: dict[str, tuple[float, float]]
    classes: frozenset[str] | None = Field(
        default=None, description="Only count these classes on this line; all classes when absent."
    )

    @property
    def normal(self) -> tuple[float, float]:
        """Perpendicular to the line; its sign decides which side a point is on."""
        return (-(self.end[1] - self.start[1]), self.end[0] - self.start[0])

    @model_validator(mode="after")
    def _two_opposite_directions(self) -> CountingLine:
        if self.start == self.end:
            raise ValueError("start and end are the same point")
        if len(self.directions) != 2:
            raise ValueError(f"directions needs exactly two names, got {sorted(self.directions)}")
        nx, ny = self.normal
        sides = [vx * nx + vy * ny for vx, vy in self.directions.values()]
        if sides[0] * sides[1] >= 0:
            raise ValueError(
                "directions must point to opposite sides of the line (one vector across it each way), "
                f"got {dict(self.directions)}"
            )
        return self

    def direction_towards_positive_side(self) -> str:
        """The name of the crossing whose motion goes along the line's normal."""
        nx, ny = self.normal
        return max(
            self.directions, key=lambda name: self.directions[name][0] * nx + self.directions[name][1] * ny
        )

    def direction_towards_negative_side(self) -> str:
        positive = self.direction_towards_positive_side()
        return next(name for name in self.directions if name != positive)


class Zone(_Strict):
    zone_id: str = Field(min_length=1)
    polygon: list[Point] = Field(min_length=3)


class CameraConfig(_Strict):
    camera_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    segment_id: str = Field(min_length=1, description="Road segment the camera covers.")
    district_id: str = Field(min_length=1)
    frame_stride: int = Field(default=1, ge=1, description="Analyse every n-th frame.")
    lines: list[CountingLine] = Field(default_factory=list)
    zones: list[Zone] = Field(default_factory=list)

    @field_validator("lines", "zones")
    @classmethod
    def _unique_ids(cls, items: list[CountingLine] | list[Zone]) -> list:
        ids = [getattr(item, "line_id", None) or getattr(item, "zone_id", None) for item in items]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate ids {duplicates}")
        return items


class CamerasFile(YamlDocument):
    entry_key = "camera_id"
    cameras: list[CameraConfig]


class CameraRegistry(_Strict):
    cameras: dict[str, CameraConfig]

    def get(self, camera_id: str) -> CameraConfig:
        try:
            return self.cameras[camera_id]
        except KeyError:
            raise RegistryError(
                f"camera {camera_id!r} is not in the registry; known: {', '.join(sorted(self.cameras))}"
            ) from None


def load_registry(path: Path = DEFAULT_REGISTRY) -> CameraRegistry:
    """Read and validate a registry YAML (a ``cameras:`` list); :class:`RegistryError` names the fault."""
    cameras: dict[str, CameraConfig] = {}
    for index, camera in enumerate(load_model(path, CamerasFile).cameras):
        if camera.camera_id in cameras:
            where = CamerasFile.where(path, "cameras", index, camera)
            raise RegistryError(f"{where} field 'camera_id': duplicate camera {camera.camera_id!r}")
        cameras[camera.camera_id] = camera
    return CameraRegistry(cameras=cameras)

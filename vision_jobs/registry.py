"""The camera registry: where each camera looks, what it counts, and which road it covers.

Lines and zones are in normalised image coordinates (0..1, origin top-left, y down) so a registry
entry survives a change of stream resolution. A direction is named by a motion vector: an object
crossing a line while moving roughly along ``eastbound: [1, 0]`` is counted as eastbound.
Loading validates everything up front and names the file, the entry and the field that is wrong.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

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


# strftime directives a clip name may carry, as the digits they write
_STAMP_DIGITS = {"Y": r"\d{4}", "y": r"\d{2}", "m": r"\d{2}", "d": r"\d{2}", "H": r"\d{2}", "M": r"\d{2}"}
_STAMP_DIGITS |= {"S": r"\d{2}", "f": r"\d{6}", "j": r"\d{3}"}
_START_FIELD = re.compile(r"\{start:([^{}]*)\}")
_DIRECTIVE = re.compile(r"%(.)")


class ClipNamePattern(_Strict):
    """How a camera's recorder names its clips, below the camera's landing folder ``cctv/<camera_id>/``
    and without the suffix (the container is known by its bytes): literal text with
    ``{start:<strftime format>}`` where the clip's start is written, e.g. ``CH02_{start:%Y%m%d_%H%M%S}``
    or ``{start:%Y-%m-%d}/CH02_{start:%H%M%S}``. The stamp is in the recorder clock's ``timezone``,
    the city's when absent. Cameras of one vendor share a convention through a YAML anchor.
    """

    pattern: str = Field(min_length=1)
    timezone: str | None = Field(default=None, description="IANA zone of the recorder's clock.")
    _regex: re.Pattern[str] = PrivateAttr()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        if name is not None:
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {name!r}") from None
        return name

    @model_validator(mode="after")
    def _compile(self) -> ClipNamePattern:
        formats = _START_FIELD.findall(self.pattern)
        literals = _START_FIELD.split(self.pattern)[::2]
        if any("{" in text or "}" in text for text in literals):
            raise ValueError(f"{self.pattern!r}: the only field is {{start:<strftime format>}}")
        directives = set().union(*(_DIRECTIVE.findall(f) for f in formats))
        if unknown := directives - set(_STAMP_DIGITS):
            raise ValueError(f"{self.pattern!r}: unsupported directives {sorted('%' + d for d in unknown)}")
        if not {"m", "d", "H", "M"} <= directives or not directives & {"Y", "y"}:
            raise ValueError(f"{self.pattern!r}: the start must give year, month, day, hour and minute")
        regex = re.escape(literals[0])
        for number, (text, literal) in enumerate(zip(formats, literals[1:], strict=True)):
            field = _DIRECTIVE.sub(lambda m: _STAMP_DIGITS[m[1]], re.escape(text).replace("\\%", "%"))
            regex += f"(?P<start{number}>{field}){re.escape(literal)}"
        self._regex = re.compile(regex)
        sample = datetime(2031, 12, 30, 23, 58, 57, tzinfo=UTC)
        if self.parse(self.format(sample), UTC) != sample.replace(second=sample.second * ("S" in directives)):
            raise ValueError(f"{self.pattern!r}: a start written this way cannot be read back")
        return self

    def _zone(self, city: tzinfo) -> tzinfo:
        return ZoneInfo(self.timezone) if self.timezone else city

    def format(self, start: datetime) -> str:
        """The name the recorder gives a clip starting at ``start`` (path below the camera's folder),
        on its clock: ``timezone``'s, or ``start``'s own (the city's) when the pattern names none."""
        clock = start.astimezone(ZoneInfo(self.timezone)) if self.timezone else start
        return _START_FIELD.sub(lambda field: clock.strftime(field[1]), self.pattern)

    def parse(self, name: str, city: tzinfo) -> datetime | None:
        """The start, in the city's zone, of a clip named ``name``; ``None`` when the name does not fit
        or its stamps contradict each other (a date folder that is not the stamp's date)."""
        match = self._regex.fullmatch(name)
        if match is None:
            return None
        # each directive read once: the fullest fields first, then any that add to them
        texts, formats, seen = [], [], set[str]()
        fields = enumerate(_START_FIELD.findall(self.pattern))
        for number, text in sorted(fields, key=lambda field: -len(_DIRECTIVE.findall(field[1]))):
            if not set(_DIRECTIVE.findall(text)) <= seen:
                texts.append(match[f"start{number}"])
                formats.append(text)
                seen |= set(_DIRECTIVE.findall(text))
        try:
            clock = datetime.strptime("\x00".join(texts), "\x00".join(formats))
        except (ValueError, re.error):
            return None
        start = clock.replace(tzinfo=self._zone(city)).astimezone(city)
        return start if self.format(start) == name else None


class CameraConfig(_Strict):
    camera_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    segment_id: str = Field(min_length=1, description="Road segment the camera covers.")
    district_id: str = Field(min_length=1)
    frame_stride: int = Field(default=1, ge=1, description="Analyse every n-th frame.")
    lines: list[CountingLine] = Field(default_factory=list)
    zones: list[Zone] = Field(default_factory=list)
    clip_names: list[ClipNamePattern] = Field(
        default_factory=list,
        description="Names the camera's recorder gives its clips, besides the platform's own "
        "<camera>_YYYYMMDDTHHMMSS under date=YYYY-MM-DD/.",
    )

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

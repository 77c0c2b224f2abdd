"""Typed job configuration: which model, how to batch it, how to track, what to keep as evidence."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cityplatform.objectstore import BRONZE, QUARANTINE
from cityplatform.settings import load_settings
from cityplatform.yamlfiles import YamlDocument, load_model

# The demo default: a detector trained on citysim frames (see models/MODEL_CARD.md). Any Ultralytics
# detection weights (path or name) can replace it.
DEFAULT_WEIGHTS = Path(__file__).with_name("models") / "citysim-yolov8n.pt"

PLATFORM_CLASSES = ("person", "bicycle", "motorbike", "car", "bus", "truck")
"""What the platform tracks and counts, whatever the model calls it; a class's index here is its id
after detection. ``motorbike`` is the simulator's and the camera registry's name for COCO's
``motorcycle``."""

DEFAULT_CLASS_MAP = {
    "person": "person",
    "bicycle": "bicycle",
    "motorcycle": "motorbike",  # COCO
    "motorbike": "motorbike",  # the simulator model, Pascal VOC
    "car": "car",
    "bus": "bus",
    "truck": "truck",
}
"""Model class name -> platform class: covers COCO-pretrained models and the shipped simulator model."""


def _resolution(text: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` (the setting's form, validated there) as numbers."""
    width, height = text.split("x")
    return int(width), int(height)


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSettingsFile(YamlDocument):
    """``<weights stem>.yaml`` beside a model's weights: the settings that belong to that model (its
    class names, how its NMS behaves), so switching weights never needs a code change."""

    class_map: dict[str, str] | None = None
    imgsz: int | None = None
    confidence: float | None = None
    iou: float | None = None
    agnostic_nms: bool | None = None


def model_settings_path(weights: str | Path) -> Path:
    """Where a model's own settings sit: beside its weights, same stem, ``.yaml``."""
    return Path(weights).with_suffix(".yaml")


class ModelConfig(_Config):
    """Which weights and how to run them. Unset fields come from the weights' settings file
    (:func:`model_settings_path`, when present), else from the defaults here, which suit a
    COCO-pretrained model: Ultralytics' NMS overlap, per-class NMS, 640 px."""

    weights: str = Field(
        default=str(DEFAULT_WEIGHTS), description="Ultralytics detection weights: path or name."
    )
    class_map: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_CLASS_MAP),
        description="Model class name -> platform class; the model's other classes are never detected.",
    )
    imgsz: int = Field(default=640, ge=32, description="Frames are resized so their long side is this.")
    confidence: float = Field(default=0.1, ge=0.0, le=1.0, description="Tracking sorts high and low scores.")
    iou: float = Field(default=0.7, ge=0.0, le=1.0, description="NMS overlap above which boxes merge.")
    agnostic_nms: bool = Field(
        default=False,
        description="One box per object across classes. Off for COCO models: a rider and their bicycle "
        "overlap and must stay two objects; on for the simulator model (a truck read as truck and car).",
    )
    device: str = Field(
        default="auto", description="'auto' (CUDA if present, else CPU), 'cpu', 'cuda', 'cuda:1'."
    )
    half: bool | None = Field(default=None, description="Half precision; default: on for CUDA, off for CPU.")
    batch_size: int = Field(default=8, ge=1, description="Frames per predict call (same camera, same shape).")

    @model_validator(mode="before")
    @classmethod
    def _model_settings(cls, data: Any) -> Any:
        """Fill what the caller left unset from the settings file beside the weights."""
        if not isinstance(data, dict):
            return data
        path = model_settings_path(data.get("weights", DEFAULT_WEIGHTS))
        if not path.is_file():
            return data
        own = load_model(path, ModelSettingsFile).model_dump(exclude_none=True)
        return {**own, **data}

    @field_validator("class_map")
    @classmethod
    def _platform_classes(cls, class_map: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(class_map.values()) - set(PLATFORM_CLASSES))
        if unknown:
            raise ValueError(f"class_map maps to {unknown}, not platform classes {list(PLATFORM_CLASSES)}")
        if not class_map:
            raise ValueError("class_map is empty: nothing would be detected")
        return class_map


class TrackerConfig(_Config):
    kind: Literal["bytetrack", "botsort"] = "bytetrack"
    lost_track_s: float = Field(
        default=2.0, gt=0, description="How long a lost track can be re-found, in seconds of video."
    )
    high_threshold: float = Field(default=0.25, ge=0, le=1)
    low_threshold: float = Field(default=0.1, ge=0, le=1)
    new_track_threshold: float = Field(default=0.25, ge=0, le=1)
    match_threshold: float = Field(default=0.8, ge=0, le=1)


class CountConfig(_Config):
    dead_band: float = Field(
        default=0.01,
        ge=0,
        description="Distance from a line (share of the frame diagonal) inside which a point is on no side, "
        "so camera shake or box jitter on the line is never counted as a crossing.",
    )
    rearm_distance: float = Field(
        default=0.05,
        ge=0,
        description="How far past a line (share of the frame diagonal) a counted track must go before its "
        "next crossing of that line counts: far more than a box swinging on the line moves, less than "
        "the way from the line to a kerb, where a tracker may hand a track id to the next person.",
    )


class JobConfig(_Config):
    model: ModelConfig = Field(default_factory=ModelConfig)
    tracker: TrackerConfig = Field(default_factory=TrackerConfig)
    counting: CountConfig = Field(default_factory=CountConfig)
    timezone: str = Field(
        default_factory=lambda: load_settings().timezone,
        description="Local time of the clip names and partitions: the city's (CITY_TIMEZONE).",
    )
    output_bucket: str = BRONZE
    quarantine_bucket: str = QUARANTINE
    evidence_frames: int = Field(
        default=1, ge=0, description="Anonymised frames kept per clip (the busiest ones) for review."
    )
    decode_workers: int = Field(
        default_factory=lambda: min(8, os.cpu_count() or 1),
        ge=1,
        description="Clips decoded at once in a batch run (threads: OpenCV decodes without the GIL).",
    )
    max_resolution: tuple[int, int] | None = Field(
        default_factory=lambda: _resolution(load_settings().vision_max_resolution),
        description="Largest (width, height) decoded, either orientation (CITY_VISION_MAX_RESOLUTION); "
        "a larger clip is quarantined as resolution-too-large from its declared size. None: no cap.",
    )
    truncation_tolerance: float = Field(
        default=0.95,
        gt=0,
        le=1,
        description="A clip holding less than this share of the duration its header declares, or decoding "
        "less than this share of the frames its stream holds, is truncated.",
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

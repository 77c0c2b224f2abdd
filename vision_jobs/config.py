"""Typed job configuration: which model, how to batch it, how to track, what to keep as evidence."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from cityplatform.objectstore import BRONZE, QUARANTINE
from cityplatform.settings import load_settings

# The demo default: a detector trained on citysim frames (see models/MODEL_CARD.md). Any Ultralytics
# detection weights (path or name) can replace it.
DEFAULT_WEIGHTS = Path(__file__).with_name("models") / "citysim-yolov8n.pt"


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelConfig(_Config):
    weights: str = Field(
        default=str(DEFAULT_WEIGHTS), description="Ultralytics detection weights: path or name."
    )
    imgsz: int = Field(default=416, ge=32, description="Frames are resized so their long side is this.")
    confidence: float = Field(default=0.1, ge=0.0, le=1.0, description="Tracking sorts high and low scores.")
    iou: float = Field(
        default=0.45, ge=0.0, le=1.0, description="NMS overlap; low, as parts of a truck must merge."
    )
    agnostic_nms: bool = Field(
        default=True,
        description="One box per object across classes: a truck read as truck and car is one track.",
    )
    device: str = Field(
        default="auto", description="'auto' (CUDA if present, else CPU), 'cpu', 'cuda', 'cuda:1'."
    )
    half: bool | None = Field(default=None, description="Half precision; default: on for CUDA, off for CPU.")
    batch_size: int = Field(default=8, ge=1, description="Frames per predict call (same camera, same shape).")


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
        default=1, ge=0, description="Blurred frames kept per clip (the busiest ones) for review."
    )
    decode_workers: int = Field(
        default_factory=lambda: min(8, os.cpu_count() or 1),
        ge=1,
        description="Clips decoded at once in a batch run (threads: OpenCV decodes without the GIL).",
    )
    truncation_tolerance: float = Field(
        default=0.95,
        gt=0,
        le=1,
        description="A clip decoding fewer than this share of the frames its header declares is truncated.",
    )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

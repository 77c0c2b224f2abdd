"""Dagster resources: thin adapters from the platform's settings to what assets need."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import dagster as dg
from pydantic import Field

from cityplatform.objectstore import ObjectStore
from cityplatform.settings import Settings, load_settings


class CityStorage(dg.ConfigurableResource):
    """The platform's S3 object store, configured from ``CITY_*`` settings (env, .env, secret files)."""

    def settings(self) -> Settings:
        return load_settings()

    def store(self) -> ObjectStore:
        return ObjectStore.from_settings(self.settings())


# The ``steward_judge`` resource: (context, storage, asset keys) -> a ``steward_trained`` result per
# key, judged as the governance domain judges them. A resource, so a domain that must judge owners
# before it builds (the marts) uses governance's rules without importing that domain.
StewardJudge = Callable[
    [dg.AssetExecutionContext, "CityStorage", Sequence[dg.AssetKey]], list[dg.AssetCheckResult]
]
STEWARD_JUDGE = "steward_judge"


class VisionInputs(dg.ConfigurableResource):
    """Which weights and camera registry the CCTV analyses use, handed to the job process (Pipes
    extras). Set in a run's configuration to try other weights or geometry for that run; unset, the
    settings apply (``CITY_VISION_MODEL``, ``CITY_VISION_CAMERAS``), and without those the files
    shipped with ``vision_jobs``. The job records what it used, with sha256, on every output."""

    model: str | None = Field(
        default=None, description="Weights: a path, an Ultralytics name or s3://bucket/key.pt."
    )
    cameras: str | None = Field(default=None, description="Camera registry: a path or s3://bucket/key.yaml.")
    class_map: dict[str, str] | None = Field(
        default=None,
        description="Model class name -> platform class, when the model's settings file does not fit.",
    )
    agnostic_nms: bool | None = Field(default=None, description="Override the model's NMS across classes.")

    def extras(self, settings: Settings) -> dict[str, object]:
        model = {
            "weights": self.model or settings.vision_model,
            "class_map": self.class_map,
            "agnostic_nms": self.agnostic_nms,
        }
        return {
            "model": {name: value for name, value in model.items() if value is not None},
            "cameras": self.cameras or settings.vision_cameras,
        }

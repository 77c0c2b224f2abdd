"""Run-time inputs of the CCTV job: which weights and which camera registry, from settings or S3.

A city switches to other weights (``s3://models/yolo11n.pt``) or adds a camera
(``s3://governance/vision/cameras.yaml``) by changing a setting, not the image: ``CITY_VISION_MODEL``
and ``CITY_VISION_CAMERAS``, or the orchestrator's run configuration, which it passes to the job.
Unset, the files shipped in this package are the demo default. Each input is recorded with the
sha256 of the exact bytes used, so a count can always be traced to the model and geometry behind it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cityplatform.objectstore import ObjectStore, parse_s3_uri
from cityplatform.settings import Settings
from cityplatform.yamlfiles import RegistryError
from vision_jobs.config import DEFAULT_WEIGHTS, model_settings_path
from vision_jobs.registry import DEFAULT_REGISTRY, CameraRegistry, load_registry


@dataclass(frozen=True)
class Artifact:
    """One run-time input: where it was configured, the local file the job reads, its sha256."""

    uri: str  # as configured: s3://bucket/key, or a local path
    path: Path
    sha256: str


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks (weights run to hundreds of MB)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _download(store: ObjectStore, uri: str, cache: Path) -> Path:
    """The object at ``uri`` in the local cache, fetched once per version (its etag)."""
    bucket, key = parse_s3_uri(uri)
    info = store.stat(bucket, key)
    if info is None:
        raise FileNotFoundError(f"no object at {uri}")
    local = cache / bucket / info.etag / Path(key).name
    if not local.is_file():
        local.parent.mkdir(parents=True, exist_ok=True)
        partial = local.with_name(local.name + ".part")
        store.get_file(bucket, key, partial)
        partial.replace(local)  # a crash mid-download never leaves a half file under the final name
    return local


def fetch(store: ObjectStore, location: str, cache: Path) -> Artifact:
    """A local path as it is, an ``s3://`` object downloaded to ``cache``; with its sha256."""
    path = _download(store, location, cache) if location.startswith("s3://") else Path(location)
    if not path.is_file():
        raise FileNotFoundError(f"{location}: no such file")
    return Artifact(location, path, sha256_file(path))


def fetch_model(store: ObjectStore, location: str, cache: Path) -> Artifact | None:
    """The weights and, from S3, the model's settings file beside them (when there is one), so both
    land side by side as :class:`~vision_jobs.config.ModelConfig` expects. ``None`` for a name only
    Ultralytics can resolve (``yolo11n.pt``): its checkpoint is hashed once loaded."""
    if not location.startswith("s3://") and not Path(location).is_file():
        return None
    weights = fetch(store, location, cache)
    if location.startswith("s3://"):
        bucket, key = parse_s3_uri(location)
        settings_key = str(model_settings_path(key))
        if store.stat(bucket, settings_key) is not None:
            settings = _download(store, f"s3://{bucket}/{settings_key}", cache)
            beside = model_settings_path(weights.path)
            if not beside.is_file():
                beside.write_bytes(settings.read_bytes())
    return weights


@dataclass(frozen=True)
class RunInputs:
    """What one run analyses clips with."""

    weights: str  # what ModelConfig.weights gets: a local file, or a name Ultralytics resolves
    model: Artifact | None
    cameras: Artifact
    registry: CameraRegistry

    def metadata(self) -> dict[str, str]:
        """The URIs and hashes a run records (the model's hash comes from the detector once loaded)."""
        return {
            "model_uri": self.model.uri if self.model else self.weights,
            "cameras_uri": self.cameras.uri,
            "cameras_sha256": self.cameras.sha256,
        }


def resolve(
    store: ObjectStore, settings: Settings, model: str | None = None, cameras: str | None = None
) -> RunInputs:
    """The run's weights and camera registry: as given, else from settings, else the package's.
    Raises FileNotFoundError or RegistryError (one line naming the input) when one cannot be used."""
    cache = settings.home_dir / "cache" / "vision"
    model_location = model or settings.vision_model or str(DEFAULT_WEIGHTS)
    cameras_location = cameras or settings.vision_cameras or str(DEFAULT_REGISTRY)
    weights = fetch_model(store, model_location, cache)
    registry_file = fetch(store, cameras_location, cache)
    try:
        registry = load_registry(registry_file.path)
    except RegistryError as exc:
        raise RegistryError(f"{cameras_location}: {exc}") from None
    return RunInputs(
        weights=str(weights.path) if weights else model_location,
        model=weights,
        cameras=registry_file,
        registry=registry,
    )

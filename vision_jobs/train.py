"""Train the default detector on simulator frames, offline, from Ultralytics' ``yolov8n.yaml``.

The job never depends on this model: it is simply the weights the demo and tests use where no real
camera model is available. Ultralytics' settings and run folders go to a scratch directory so
training never writes into the repository except the final weights.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from citysim.cctv.dataset import HELD_OUT_SEED_BASE, export_split, varied_spec, write_data_yaml


@dataclass(frozen=True)
class TrainConfig:
    """How much simulated data to render and how long to train on it."""

    workdir: Path
    output: Path
    train_clips: int = 18
    val_clips: int = 3
    clip_seconds: float = 20.0
    every_n_frames: int = 15
    occluded_every_n_frames: int | None = None  # also every m-th frame with a person mostly hidden
    night_share: float = 0.3  # chance that a rendered clip is at night
    epochs: int = 12
    imgsz: int = 320
    batch: int = 16
    device: str = "cpu"
    model_yaml: str = "yolov8n.yaml"
    init_weights: Path | None = None  # continue from earlier weights instead of starting from the YAML
    hours: float | None = None  # wall-time cap: Ultralytics' ``time``, which then re-plans the epochs to fit
    lr0: float | None = None  # AdamW at this rate; None lets Ultralytics choose (optimizer ``auto``)

    def __post_init__(self) -> None:
        if self.train_clips + self.val_clips > HELD_OUT_SEED_BASE:
            raise ValueError("training seeds would overlap the held-out evaluation seeds")


@dataclass(frozen=True)
class TrainResult:
    weights: Path
    train_images: int
    val_images: int
    epochs: int
    seconds: float
    metrics: dict[str, float]


def prepare_dataset(config: TrainConfig) -> tuple[Path, int, int]:
    """Render clips (seeds 0..n-1) and cut a YOLO dataset; validation clips come after training ones.

    Rendering is deterministic, so a dataset already in the workdir for the same settings is reused.
    """
    data_dir = config.workdir / "dataset"
    manifest_path = data_dir / "manifest.json"
    manifest = {
        "train_clips": config.train_clips,
        "val_clips": config.val_clips,
        "clip_seconds": config.clip_seconds,
        "every_n_frames": config.every_n_frames,
        "occluded_every_n_frames": config.occluded_every_n_frames,
        "night_share": config.night_share,
    }
    if manifest_path.is_file():
        stored = json.loads(manifest_path.read_text())
        if stored["settings"] == manifest:
            return data_dir / "data.yaml", stored["train_images"], stored["val_images"]
    shutil.rmtree(data_dir, ignore_errors=True)
    train_specs = [
        varied_spec(seed, config.clip_seconds, night_share=config.night_share)
        for seed in range(config.train_clips)
    ]
    val_specs = [
        varied_spec(seed, config.clip_seconds, night_share=config.night_share)
        for seed in range(config.train_clips, config.train_clips + config.val_clips)
    ]
    sampling = (config.every_n_frames, config.occluded_every_n_frames)
    n_train = export_split(train_specs, data_dir, "train", *sampling)
    n_val = export_split(val_specs, data_dir, "val", *sampling)
    data_yaml = write_data_yaml(data_dir)
    document = {"settings": manifest, "train_images": n_train, "val_images": n_val}
    manifest_path.write_text(json.dumps(document))
    return data_yaml, n_train, n_val


def train_detector(config: TrainConfig) -> TrainResult:
    """Render data, train, and copy the best weights (optimizer stripped) to ``config.output``."""
    config.workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(config.workdir / "ultralytics-settings"))
    started = time.monotonic()
    data_yaml, n_train, n_val = prepare_dataset(config)

    from ultralytics import YOLO  # after the environment above, so settings land in the workdir

    model = YOLO(str(config.init_weights) if config.init_weights else config.model_yaml)
    # ``auto`` ignores lr0, so an explicit rate (a gentle fine-tune) names its optimizer too
    optimizer = {"optimizer": "AdamW", "lr0": config.lr0} if config.lr0 else {"optimizer": "auto"}
    model.train(
        data=str(data_yaml),
        epochs=config.epochs,
        time=config.hours,
        imgsz=config.imgsz,
        batch=config.batch,
        device=config.device,
        project=str(config.workdir / "runs"),
        name="citysim",
        exist_ok=True,
        pretrained=config.init_weights is not None,
        warmup_epochs=0 if config.init_weights else 3,
        **optimizer,
        amp=config.device != "cpu",
        plots=False,
        workers=2,
        cache="ram",
        close_mosaic=max(1, config.epochs // 7),
        patience=config.epochs,
        seed=0,
        deterministic=False,
        verbose=False,
    )
    best = Path(model.trainer.best)
    config.output.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(best, config.output)
    metrics = {k: float(v) for k, v in model.trainer.metrics.items()}
    epochs_run = model.trainer.epoch + 1  # differs from config.epochs when ``hours`` re-planned them
    return TrainResult(config.output, n_train, n_val, epochs_run, time.monotonic() - started, metrics)

"""Training: a real, tiny Ultralytics run on rendered frames, from the committed weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from vision_jobs.config import ModelConfig
from vision_jobs.train import TrainConfig, train_detector


def test_a_fine_tune_writes_weights_for_the_simulator_classes(tmp_path: Path) -> None:
    config = TrainConfig(
        workdir=tmp_path / "work",
        output=tmp_path / "out" / "tuned.pt",
        train_clips=1,
        val_clips=1,
        clip_seconds=2.0,
        every_n_frames=20,
        epochs=1,
        imgsz=96,
        batch=4,
        init_weights=Path(ModelConfig().weights),
        lr0=0.0002,
    )
    result = train_detector(config)

    assert result.weights.is_file() and result.weights.stat().st_size > 1_000_000
    assert (result.train_images, result.val_images, result.epochs) == (3, 3, 1)
    assert set(result.metrics) >= {"metrics/mAP50(B)", "metrics/recall(B)"}
    args = yaml.safe_load((config.workdir / "runs" / "citysim" / "args.yaml").read_text())
    assert (args["optimizer"], args["lr0"], args["warmup_epochs"]) == ("AdamW", 0.0002, 0)

    from ultralytics import YOLO

    assert YOLO(str(result.weights)).names == {0: "car", 1: "bus", 2: "truck", 3: "motorbike", 4: "person"}


def test_training_seeds_never_reach_the_held_out_clips(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="held-out"):
        TrainConfig(workdir=tmp_path, output=tmp_path / "w.pt", train_clips=9_999, val_clips=2)

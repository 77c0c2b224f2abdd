"""Many clips per run: one run over N clips vs N single-clip runs vs bare ``predict``, same frames.

Usage: ``python benchmarks/vision.py [--clips 12] [--seconds 10] [--batch-size 8] [--device cpu]
[--imgsz 416] [--half] [--repeats 3]``

- batched run: ``run_batch`` over the N clips with one loaded model: read from S3, decode (threads),
  detect (frames of several clips in one call), track, count, write parquet and evidence;
- single-clip runs: N runs of ``run_clip``, each loading the model first, as one run per clip did;
- bare predict: ``predict`` alone over the same frames, already decoded and resized in memory.

Per-clip overhead is what a run pays before its first frame (process start-up with its imports,
timed in a fresh interpreter, and the model load with its first call), as a share of the time a
60-second clip takes in the batched run; a run of N clips pays it once for N clips. Rounds
alternate the order of the three; each figure is the median of its rounds. An embedded S3 server is
started in a temp folder on free ports.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="ultralytics-settings-"))

from cityplatform.embedded_s3 import temporary_server
from cityplatform.objectstore import CORE_BUCKETS
from cityplatform.settings import load_settings
from citysim.cctv import ClipSpec, render_clip, upload_clip
from vision_jobs.config import DEFAULT_WEIGHTS, JobConfig, ModelConfig
from vision_jobs.decode import read_frames
from vision_jobs.detect import UltralyticsDetector
from vision_jobs.job import run_batch, run_clip
from vision_jobs.registry import load_registry

CAMERAS = ("cam-01", "cam-02")  # same frame size: their frames share predict calls


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def start_up_seconds() -> float:
    """A fresh interpreter importing what a vision process imports before it loads the model."""
    code = "import torch, ultralytics, vision_jobs.pipes, vision_jobs.job"
    return timed(lambda: subprocess.run([sys.executable, "-c", code], check=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=12, help="Clips in the batched run (and single runs).")
    parser.add_argument("--seconds", type=float, default=10.0, help="Length of each clip.")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    parser.add_argument("--device", default="cpu", help="'cpu' (the target's figures), 'auto', 'cuda'.")
    parser.add_argument("--imgsz", type=int, default=416)
    parser.add_argument("--half", action="store_true", help="Half precision (CUDA only).")
    parser.add_argument("--decode-workers", type=int, default=None, help="Default: the job's default.")
    parser.add_argument("--repeats", type=int, default=3, help="Rounds; the median of each figure counts.")
    args = parser.parse_args()

    model = ModelConfig(
        weights=args.weights, device=args.device, imgsz=args.imgsz, batch_size=args.batch_size, half=args.half
    )
    workers = {"decode_workers": args.decode_workers} if args.decode_workers else {}
    config = JobConfig(model=model, evidence_frames=1, **workers)
    registry = load_registry()
    start = datetime(2025, 5, 12, 8, 0, tzinfo=load_settings().zone)
    with (
        tempfile.TemporaryDirectory(prefix="vision-bench-") as tmp,
        temporary_server(Path(tmp) / "s3", "bench", "bench-secret-not-for-production") as server,
    ):
        store = server.store()
        store.ensure_buckets(CORE_BUCKETS)
        uris, frames = [], []
        for i in range(args.clips):
            camera = CAMERAS[i % len(CAMERAS)]
            spec = ClipSpec(
                camera_id=camera,
                start=start + timedelta(minutes=15 * i),
                seconds=args.seconds,
                seed=40_000 + i,
            )
            video = Path(tmp) / f"{spec.clip_name}.mp4"
            uris.append(upload_clip(store, video, render_clip(spec, video)).uri)
            stride = registry.get(camera).frame_stride
            frames += [f.image for f in read_frames(video, stride, args.imgsz)]
        fps_in, stride = spec.fps, registry.get(CAMERAS[0]).frame_stride
        print(
            f"{args.clips} clips of {args.seconds:.0f} s at {fps_in:.0f} fps, stride {stride} -> "
            f"{len(frames)} frames of {frames[0].shape[1]}x{frames[0].shape[0]}, batch {args.batch_size}, "
            f"{config.decode_workers} decode threads"
        )

        start_up = start_up_seconds()
        load_times: list[float] = []

        def load() -> UltralyticsDetector:
            started = time.perf_counter()
            loaded = UltralyticsDetector(model)
            loaded.predict_chunk(frames[: args.batch_size])  # the first call builds the predictor
            load_times.append(time.perf_counter() - started)
            return loaded

        detector = load()

        def bare() -> None:
            for i in range(0, len(frames), args.batch_size):
                detector.predict_chunk(frames[i : i + args.batch_size])

        def batched() -> None:
            reports = run_batch(store, uris, registry, detector, config)
            assert all(r.ok for r in reports) and sum(r.frames_analysed for r in reports) == len(frames)

        def singles() -> None:
            for uri in uris:
                assert run_clip(store, uri, registry, load(), config).ok

        figures: dict[str, list[float]] = {"batched": [], "singles": [], "bare": []}
        actions = {"batched": batched, "singles": singles, "bare": bare}
        for round_no in range(args.repeats):
            order = list(actions) if round_no % 2 == 0 else list(reversed(actions))
            for name in order:
                figures[name].append(len(frames) / timed(actions[name]))
            print(f"round {round_no + 1}: " + ", ".join(f"{n} {figures[n][-1]:.1f} fps" for n in actions))

        fps = {name: statistics.median(values) for name, values in figures.items()}
        model_load = statistics.median(load_times)
        overhead = start_up + model_load
        clip_60s = 60 * fps_in / stride / fps["batched"]  # seconds a 60-second clip takes in the batched run
        print(f"device: {detector.device}, half: {detector.half}, model: {Path(args.weights).name}")
        print(f"medians of {args.repeats} rounds, frames per second over the same {len(frames)} frames:")
        rows = {
            f"one run over {args.clips} clips": fps["batched"],
            f"{args.clips} single-clip runs, model loaded in each": fps["singles"],
            "bare predict on preloaded frames": fps["bare"],
        }
        for label, value in rows.items():
            print(f"  {label:<45} {value:8.1f}")
        print(f"batched / bare predict: {fps['batched'] / fps['bare']:.2f} (target >= 0.90)")
        print(f"batched / single-clip runs: {fps['batched'] / fps['singles']:.2f}")
        print(
            f"per-run overhead: start-up {start_up:.2f} s + model load {model_load:.2f} s = {overhead:.2f} s,"
            f" and a 60-second clip takes {clip_60s:.1f} s in the batched run"
        )
        print(f"  per clip, one run per clip:      {100 * overhead / clip_60s:6.1f} % (target <= 5 %)")
        print(
            f"  per clip, one run of {args.clips} clips:   {100 * overhead / args.clips / clip_60s:6.1f} % "
            "(target <= 5 %)"
        )


if __name__ == "__main__":
    main()

"""Whole vision job vs bare ``model.predict``, on the same frames, for several batch sizes.

Usage: ``python benchmarks/vision.py [--seconds 20] [--batch-sizes 1 8 32] [--device auto] [--imgsz 416]``

The job's frames per second include reading the clip from S3, decoding, detection, tracking,
counting and writing parquet; the baseline is ``predict`` alone over the same frames already decoded
and resized in memory. Both run in this process, one after the other, so the ratio compares like with
like on whatever machine runs it; ``--repeats`` rounds go over every batch size (in alternating order)
and each figure is the median of its rounds. An embedded S3 server is started in a temp folder on
free ports.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from rich.progress import track

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="ultralytics-settings-"))

from cityplatform.embedded_s3 import temporary_server
from cityplatform.objectstore import CORE_BUCKETS
from citysim.cctv import ClipSpec, render_clip, upload_clip
from vision_jobs.config import DEFAULT_WEIGHTS, JobConfig, ModelConfig
from vision_jobs.decode import read_frames
from vision_jobs.detect import UltralyticsDetector
from vision_jobs.job import run_clip
from vision_jobs.registry import load_registry


def bare_predict_fps(detector: UltralyticsDetector, frames: list) -> float:
    """Frames per second of ``predict`` alone, chunked to the batch size."""
    size = detector.config.batch_size
    started = time.perf_counter()
    for start in range(0, len(frames), size):
        detector.predict_chunk(frames[start : start + size])
    return len(frames) / (time.perf_counter() - started)


def config_for(args: argparse.Namespace, batch_size: int) -> JobConfig:
    model = ModelConfig(weights=args.weights, device=args.device, imgsz=args.imgsz, batch_size=batch_size)
    return JobConfig(model=model, evidence_frames=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="Length of the benchmark clip.")
    parser.add_argument("--camera", default="cam-01")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--weights", default=str(DEFAULT_WEIGHTS))
    parser.add_argument("--device", default="auto")
    parser.add_argument("--imgsz", type=int, default=416)
    parser.add_argument(
        "--repeats", type=int, default=3, help="Rounds over all batch sizes; the median of each counts."
    )
    args = parser.parse_args()

    registry = load_registry()
    camera = registry.get(args.camera)
    with (
        tempfile.TemporaryDirectory(prefix="vision-bench-") as tmp,
        temporary_server(Path(tmp) / "s3", "bench", "bench-secret-not-for-production") as server,
    ):
        store = server.store()
        store.ensure_buckets(CORE_BUCKETS)
        spec = ClipSpec(camera_id=args.camera, seconds=args.seconds, seed=31_337)
        video = Path(tmp) / f"{spec.clip_name}.mp4"
        uri = upload_clip(store, video, render_clip(spec, video)).uri
        frames = [f.image for f in read_frames(video, camera.frame_stride, args.imgsz)]
        print(
            f"clip: {args.seconds:.0f} s at {spec.fps:.0f} fps, stride {camera.frame_stride} -> "
            f"{len(frames)} frames of {frames[0].shape[1]}x{frames[0].shape[0]}"
        )
        configs = {size: config_for(args, size) for size in args.batch_sizes}
        detectors = {size: UltralyticsDetector(config.model) for size, config in configs.items()}
        for size, detector in detectors.items():
            detector.predict_chunk(frames[:size])  # warm-up: the first call builds the predictor
        bare: dict[int, list[float]] = {size: [] for size in args.batch_sizes}
        job: dict[int, list[float]] = {size: [] for size in args.batch_sizes}
        # rounds over every batch size, so a machine that speeds up or slows down (they do, here,
        # by a quarter within minutes) shifts all of them alike; the median of each counts
        for round_no in track(range(args.repeats), description="rounds over the batch sizes"):
            for size in args.batch_sizes if round_no % 2 == 0 else reversed(args.batch_sizes):
                bare[size].append(bare_predict_fps(detectors[size], frames))
                started = time.perf_counter()
                report = run_clip(store, uri, registry, detectors[size], configs[size])
                job[size].append(report.frames_analysed / (time.perf_counter() - started))
                assert report.ok and report.frames_analysed == len(frames), report
        detector = detectors[args.batch_sizes[0]]
        print(f"device: {detector.device}, half: {detector.half}, model: {Path(args.weights).name}")
        print(f"medians of {args.repeats} rounds")
        print(f"{'batch':>5} {'job fps':>9} {'predict fps':>12} {'job/predict':>12}")
        rows = {
            size: (statistics.median(job[size]), statistics.median(bare[size])) for size in args.batch_sizes
        }
        for size, (job_fps, bare_fps) in rows.items():
            print(f"{size:>5} {job_fps:>9.1f} {bare_fps:>12.1f} {job_fps / bare_fps:>12.2f}")
        best = max(rows, key=lambda size: rows[size][1])
        print(
            f"best bare predict at batch {best}: job/predict = {rows[best][0] / rows[best][1]:.2f} "
            f"(target >= 0.80 on CPU)"
        )


if __name__ == "__main__":
    main()

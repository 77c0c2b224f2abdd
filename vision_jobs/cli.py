"""``python -m vision_jobs`` (and ``city vision``): run, train, evaluate. Thin: logic lives in the modules.

Exit codes (the same as ``city``'s): 0 done; 2 bad configuration or arguments; 3 object store
unreachable; 4 data problem (a clip quarantined, or evaluation above its error target). Heavy imports
(torch, Ultralytics, OpenCV) happen inside the commands so ``--help`` stays quick, and nothing here
imports Dagster.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Column, Table

from cityplatform.exits import (
    EXIT_CONFIG,
    EXIT_DATA,
    EXIT_STORAGE,
    console,
    err_console,
    exit_on,
    fail,
    settings_or_exit,
)
from cityplatform.objectstore import ObjectStore, ObjectStoreError, parse_s3_uri
from cityplatform.output import JSON_OPTION, print_json
from cityplatform.yamlfiles import RegistryError
from vision_jobs.config import DEFAULT_WEIGHTS, JobConfig, ModelConfig, TrackerConfig
from vision_jobs.detect import UltralyticsDetector
from vision_jobs.registry import DEFAULT_REGISTRY, CameraRegistry, load_registry

if TYPE_CHECKING:
    from vision_jobs.job import ClipReport

app = typer.Typer(
    help="CCTV vision batch jobs: clips in S3 to tracked, counted, anonymised traffic data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

WEIGHTS = typer.Option(str(DEFAULT_WEIGHTS), help="Ultralytics detection weights (path or model name).")
DEVICE = typer.Option("auto", help="'auto' (CUDA with half precision if present, else CPU), 'cpu', 'cuda:0'.")
BATCH = typer.Option(8, min=1, help="Frames per predict call.")
IMGSZ = typer.Option(
    None, min=32, help="Model input size (long side of the resized frames); default: the model's own."
)
RUN_WEIGHTS = typer.Option(
    None,
    help="Weights: a path, an Ultralytics name or s3://bucket/key.pt; default: CITY_VISION_MODEL, else "
    "the shipped simulator model.",
)
RUN_REGISTRY = typer.Option(
    None,
    help="Camera registry: a path or s3://bucket/key.yaml; default: CITY_VISION_CAMERAS, else the "
    "shipped registry.",
)
REGISTRY = typer.Option(DEFAULT_REGISTRY, help="Camera registry YAML.")


def _job_config(
    weights: str,
    device: str,
    batch_size: int,
    imgsz: int | None,
    tracker: str = "bytetrack",
    evidence_frames: int = 1,
) -> JobConfig:
    size = {} if imgsz is None else {"imgsz": imgsz}  # unset: the model's settings file decides
    return JobConfig(
        model=ModelConfig(weights=weights, device=device, batch_size=batch_size, **size),
        tracker=TrackerConfig(kind=tracker),  # type: ignore[arg-type]
        evidence_frames=evidence_frames,
    )


def _registry(path: Path) -> CameraRegistry:
    with exit_on(RegistryError, code=EXIT_CONFIG):
        return load_registry(path)


def _detector(config: JobConfig) -> UltralyticsDetector:
    weights = Path(config.model.weights)
    if weights.suffix == ".pt" and weights.parent != Path(".") and not weights.is_file():
        raise fail(f"weights not found: {weights}", EXIT_CONFIG)
    with exit_on(ValueError, FileNotFoundError, code=EXIT_CONFIG):
        return UltralyticsDetector(config.model)


@contextmanager
def _progress() -> Iterator[Callable[[str, int], Callable[[int], None]]]:
    """A rich progress bar per clip; the job calls back with frames analysed."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("frames"),
        TimeRemainingColumn(),
        console=err_console,  # stdout is for the results (and --json)
    ) as progress:

        def start(clip: str, total: int) -> Callable[[int], None]:
            task = progress.add_task(clip, total=total)
            return lambda n: progress.advance(task, n)

        yield start


def _clip_uris(store: ObjectStore, clips: list[str]) -> list[str]:
    """Clip URIs as given; a URI ending in '/' stands for every object under that prefix (what a clip
    is comes from its bytes, so an object that is not one is quarantined with its reason, not skipped)."""
    uris = []
    for clip in clips:
        if not clip.endswith("/"):
            uris.append(clip)
            continue
        bucket, prefix = parse_s3_uri(clip)
        found = [o.uri for o in store.list_objects(bucket, prefix)]
        if not found:
            raise fail(f"no clips under {clip}", EXIT_DATA)
        uris.extend(found)
    return uris


@app.command()
def run(
    clip: Annotated[
        list[str], typer.Option("--clip", help="s3:// URI of a clip (repeatable); ending in '/' = a prefix.")
    ],
    camera: str | None = typer.Option(None, help="Camera id; default: read from the clip's file name."),
    registry: str | None = RUN_REGISTRY,
    weights: str | None = RUN_WEIGHTS,
    device: str = DEVICE,
    batch_size: int = BATCH,
    imgsz: int | None = IMGSZ,
    tracker: str = typer.Option("bytetrack", help="'bytetrack' or 'botsort'."),
    evidence_frames: int = typer.Option(1, min=0, help="Anonymised frames kept per clip."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Analyse clips from S3 into detections, counts and occupancy parquet in bronze."""
    from vision_jobs.artifacts import resolve
    from vision_jobs.job import run_batch

    settings = settings_or_exit()
    store = ObjectStore.from_settings(settings)
    with exit_on(ObjectStoreError, code=EXIT_STORAGE):
        store.ping()
    with exit_on(RegistryError, FileNotFoundError, ValueError, code=EXIT_CONFIG):
        inputs = resolve(store, settings, weights, registry)
    cameras = inputs.registry
    if camera is not None:
        with exit_on(RegistryError, code=EXIT_CONFIG):
            cameras.get(camera)
    with exit_on(ValidationError, code=EXIT_CONFIG):
        config = _job_config(inputs.weights, device, batch_size, imgsz, tracker, evidence_frames)
    with exit_on(ValueError, code=EXIT_CONFIG):
        uris = _clip_uris(store, clip)
    detector = _detector(config)
    # storage that goes away while clips are analysed is one line and exit 3, as at the start
    with _progress() as progress, exit_on(ObjectStoreError, code=EXIT_STORAGE):
        reports = run_batch(store, uris, cameras, detector, config, camera, progress)
    if as_json:
        print_json([asdict(r) for r in reports])
    else:
        _print_reports(reports)
    quarantined = [r for r in reports if not r.ok]
    if quarantined:
        raise fail(f"{len(quarantined)} of {len(reports)} clips quarantined", EXIT_DATA)


def _print_reports(reports: list[ClipReport]) -> None:
    table = Table("clip", "status", "frames", "fps", "crossings", "outputs / reason")
    for r in reports:
        crossings = ", ".join(f"{k}={v}" for k, v in r.crossings.items()) or "-"
        table.add_row(
            r.uri.rsplit("/", 1)[-1],
            r.status,
            str(r.frames_analysed),
            f"{r.frames_per_second:.1f}",
            crossings,
            "\n".join(r.outputs) if r.ok else f"{r.reason}: {r.detail}",
        )
    console.print(table)
    if reports and reports[0].detector:
        console.print("model: " + ", ".join(f"{k}={v}" for k, v in reports[0].detector.items()))


@app.command()
def train(
    output: Annotated[Path, typer.Option(help="Where the trained weights are written.")] = DEFAULT_WEIGHTS,
    workdir: Annotated[
        Path | None, typer.Option(help="Scratch folder for data and runs (default: under CITY_HOME).")
    ] = None,
    epochs: int = typer.Option(12, min=1),
    train_clips: int = typer.Option(18, min=1, help="Simulated clips rendered for training."),
    val_clips: int = typer.Option(3, min=1, help="Simulated clips rendered for validation."),
    clip_seconds: float = typer.Option(20.0, min=1.0),
    every_n_frames: int = typer.Option(15, min=1, help="Keep every n-th frame of each clip."),
    occluded_every_n_frames: Annotated[
        int | None,
        typer.Option(min=1, help="Also keep every m-th frame in which a person is mostly hidden."),
    ] = None,
    night_share: float = typer.Option(
        0.3, min=0.0, max=1.0, help="Chance that a training or validation clip is at night."
    ),
    imgsz: int = typer.Option(320, min=32, help="Training image size."),
    batch: int = typer.Option(16, min=1),
    device: str = typer.Option("cpu", help="'cpu' or a CUDA device such as '0'."),
    init_weights: Annotated[
        Path | None, typer.Option(help="Continue from these weights instead of yolov8n.yaml.")
    ] = None,
    hours: Annotated[
        float | None,
        typer.Option(min=0.01, help="Stop training after this many hours; the epochs are re-planned to fit."),
    ] = None,
    lr0: Annotated[
        float | None,
        typer.Option(min=1e-6, help="AdamW learning rate, e.g. 0.0002 to fine-tune good weights gently."),
    ] = None,
    as_json: bool = JSON_OPTION,
) -> None:
    """Train the default detector offline on simulator frames (yolov8n from its YAML)."""
    from vision_jobs.train import TrainConfig, train_detector

    scratch = workdir or settings_or_exit().home_dir / "vision-train"
    config = TrainConfig(
        workdir=scratch,
        output=output,
        train_clips=train_clips,
        val_clips=val_clips,
        clip_seconds=clip_seconds,
        every_n_frames=every_n_frames,
        occluded_every_n_frames=occluded_every_n_frames,
        night_share=night_share,
        epochs=epochs,
        imgsz=imgsz,
        batch=batch,
        device=device,
        init_weights=init_weights,
        hours=hours,
        lr0=lr0,
    )
    result = train_detector(config)
    if as_json:
        print_json(asdict(result))
        return
    console.print(f"weights: {result.weights} ({result.weights.stat().st_size / 1e6:.1f} MB)")
    console.print(
        f"images: {result.train_images} train, {result.val_images} val; epochs {result.epochs}; "
        f"{result.seconds / 60:.1f} min"
    )
    console.print(", ".join(f"{k}={v:.3f}" for k, v in result.metrics.items()))


@app.command()
def evaluate(
    clips: int = typer.Option(6, min=1, help="Held-out clips to render and score."),
    seconds: float = typer.Option(60.0, min=5.0, help="Length of each clip."),
    first_seed: int = typer.Option(
        10_000, help="Seed of the first held-out clip (training uses lower seeds)."
    ),
    max_error_pct: float = typer.Option(5.0, help="Target: count error per clip and class group, % of true."),
    trace: bool = typer.Option(
        False,
        "--trace",
        help="Under each clip: true crossings not counted (or counted early or late), counts with no "
        "true crossing.",
    ),
    registry: Path = REGISTRY,
    weights: str = WEIGHTS,
    device: str = DEVICE,
    batch_size: int = BATCH,
    imgsz: int = IMGSZ,
    as_json: bool = JSON_OPTION,
) -> None:
    """Score line-crossing counts against simulator truth on held-out clips; exit 4 if over target."""
    from vision_jobs.evaluate import ClipScore, held_out_specs
    from vision_jobs.evaluate import evaluate as run_evaluation

    cameras = _registry(registry)
    with exit_on(ValidationError, code=EXIT_CONFIG):
        config = _job_config(weights, device, batch_size, imgsz, evidence_frames=0)
    with exit_on(ValueError, code=EXIT_CONFIG):
        specs = held_out_specs(clips, seconds, first_seed)
    detector = _detector(config)
    table = Table(
        Column("clip", no_wrap=True),  # whole clip names even in an 80-column log file
        "conditions",
        Column("vehicles", no_wrap=True),
        Column("pedestrians", no_wrap=True),
        "fps",
        caption="true / counted line crossings (error)",
    )

    def show(score: ClipScore) -> None:
        v, p = score.groups["vehicles"], score.groups["pedestrians"]
        cells = [f"{g.true_total}/{g.counted_total} ({g.error_pct:.1f}%)" for g in (v, p)]
        table.add_row(score.clip, score.conditions, *cells, f"{score.frames_per_second:.1f}")
        # as each clip is scored; on stderr with --json, where stdout is the JSON alone
        out = err_console if as_json else console
        out.print(f"{score.clip}: vehicles {v.error_pct:.1f}%, pedestrians {p.error_pct:.1f}%")
        for line in score.trace.lines() if trace else []:
            out.print(f"  {line}", highlight=False, soft_wrap=True)  # one line each, even in a log

    with tempfile.TemporaryDirectory(prefix="vision-eval-") as tmp:
        scores = run_evaluation(specs, Path(tmp), cameras, detector, config, show)
    totals = {
        group: (
            sum(s.groups[group].absolute_error for s in scores),
            sum(s.groups[group].true_total for s in scores),
        )
        for group in ("vehicles", "pedestrians")
    }
    if as_json:
        clips_scored = [{k: v for k, v in asdict(s).items() if k != "trace"} for s in scores]
        print_json({"clips": clips_scored, "errors_over_true": totals, "max_error_pct": max_error_pct})
    else:
        console.print(table)
        for group, (error, true) in totals.items():
            console.print(
                f"{group}: {error} errors over {true} true crossings ({100 * error / max(true, 1):.1f}%)"
            )
    failing = [s.clip for s in scores if not s.within(max_error_pct)]
    if failing:
        raise fail(f"{len(failing)} clips above {max_error_pct}%: {', '.join(failing)}", EXIT_DATA)

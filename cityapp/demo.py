"""``city demo``: one simulated city day through the whole platform on the embedded default.

Starts the S3 server, writes a day of city data into landing, runs every Dagster job on the local
instance (the same one ``city ui`` opens) as runs of its code location, and summarises what came in,
what was accepted, what was quarantined and why, and where everything lies.
"""

from __future__ import annotations

import contextlib
import tempfile
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from pathlib import Path

import dagster as dg

from cityapp.dagster_home import execute_as_code_location_run, load_definitions, local_instance
from cityplatform.embedded_s3 import EmbeddedS3, ServerState
from cityplatform.objectstore import CORE_BUCKETS, ObjectStore
from cityplatform.settings import Settings
from citysim import DayTruth, build_city, write_iot_day
from citysim.landing import record_landed_day
from governance.access.sync import sync_access
from governance.registry.departments import mart_buckets
from governance.registry.registry import load_registry
from orchestration.defs.cctv.partitions import clip_partitions
from orchestration.lib.metadata import plain

# Jobs in dependency order, each with what it is partitioned by: the day, each clip, or nothing.
DEMO_JOBS: tuple[tuple[str, str | None], ...] = (
    ("iot_registry", None),
    ("iot_ingest_day", "day"),
    ("cctv_analyse_clip", "clip"),
    ("marts_build_day", "day"),
    ("governance_scorecard", None),
)
# Two short simulated clips: a morning rush on cam-01 and an evening on cam-02.
DEMO_CLIPS: tuple[tuple[str, time], ...] = (("cam-01", time(8, 15)), ("cam-02", time(18, 30)))
DEMO_CLIP_SECONDS = 10


# The summary is the demo's output; run logs stay in the instance for the UI.
_QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class JobOutcome:
    name: str
    success: bool
    run_id: str
    partition_key: str | None
    materializations: dict[str, dict[str, object]] = field(default_factory=dict)  # asset -> metadata
    failed_checks: list[str] = field(default_factory=list)


@dataclass
class DemoSummary:
    day: date
    server: ServerState
    truth: DayTruth
    jobs: list[JobOutcome]
    log_path: Path

    @property
    def success(self) -> bool:
        return all(job.success and not job.failed_checks for job in self.jobs)

    def asset_metadata(self, asset: str) -> dict[str, object]:
        for job in self.jobs:
            if asset in job.materializations:
                return job.materializations[asset]
        return {}

    @property
    def injected_by_reason(self) -> dict[str, int]:
        return dict(Counter(fault.reason.value for fault in self.truth.faults))


def run_job(
    definitions: dg.Definitions, name: str, instance: dg.DagsterInstance, partition_key: str | None
) -> JobOutcome:
    result = execute_as_code_location_run(
        definitions, name, instance, partition_key=partition_key, run_config=_QUIET
    )
    outcome = JobOutcome(name, result.success, result.run_id, partition_key)
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        outcome.materializations[materialization.asset_key.to_user_string()] = {
            key: plain(value) for key, value in materialization.metadata.items()
        }
    for evaluation in result.get_asset_check_evaluations():
        # a check of warn severity (a dbt test configured to warn) reports without failing the demo
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            outcome.failed_checks.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    return outcome


# Told before each stage of the demo: what starts now, how many stages are done, how many in all.
Stages = Callable[[str, int, int], None]
SETUP_STAGES = 4  # access and S3, the simulated day, the clips, the code location; then one per run


def run_demo(
    settings: Settings,
    day: date,
    *,
    sensors: int,
    seed: int,
    fault_rate: float,
    stages: Stages = lambda what, done, total: None,
) -> DemoSummary:
    runs_at_least = len(DEMO_JOBS)  # the clips are known once landed
    stages("starting S3 with the departments' access", 0, SETUP_STAGES + runs_at_least)
    # Department keys and their granted buckets first: the server reads its identities at start.
    sync_access(settings, load_registry().grants, settings.today())
    server = EmbeddedS3.from_settings(settings)
    state = server.start()
    store = ObjectStore.from_settings(settings)
    store.ensure_buckets([*CORE_BUCKETS, *mart_buckets()])
    stages(f"simulating {day} for {sensors} sensors", 1, SETUP_STAGES + runs_at_least)
    truth = write_iot_day(
        store, build_city(seed=seed, sensors=sensors), day, tz=settings.zone, seed=seed, fault_rate=fault_rate
    )
    record_landed_day(settings.home_dir, day)  # before the definitions load: the day is a partition
    stages("rendering and landing CCTV clips", 2, SETUP_STAGES + runs_at_least)
    clips = land_demo_clips(store, day, settings.zone, seed)
    instance = local_instance(settings)
    instance.add_dynamic_partitions(clip_partitions.name or "", clips)
    partitions = {None: [None], "day": [day.isoformat()], "clip": clips}
    runs = [(name, key) for name, partitioned_by in DEMO_JOBS for key in partitions[partitioned_by]]
    total = SETUP_STAGES + len(runs)
    stages("loading the code location (dbt parses the models)", 3, total)
    definitions = load_definitions(refresh_manifest=True)  # the demo builds the models as they are
    log_path = settings.home_dir / "logs" / f"demo-{day}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # dbt's and the vision job's own output go to stdout, as compute logs under `dagster dev`; here
    # they go to a log file so that the summary is what the person reads.
    jobs = []
    with log_path.open("w") as log, contextlib.redirect_stdout(log), warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)  # raised by Dagster's own Pipes reader
        for done, (name, key) in enumerate(runs, start=SETUP_STAGES):
            stages(f"job {name}" + (f" [{key}]" if key else ""), done, total)
            jobs.append(run_job(definitions, name, instance, key))
    stages("done", total, total)
    return DemoSummary(day, state, truth, jobs, log_path)


def land_demo_clips(store: ObjectStore, day: date, tz: tzinfo, seed: int) -> list[str]:
    """Render the demo's clips, named in the city's zone ``tz``, and drop them into landing; return
    their partition keys."""
    from citysim.cctv import ClipSpec, render_clip, upload_clip

    keys = []
    with tempfile.TemporaryDirectory(prefix="demo-clips-") as tmp:
        for offset, (camera, start) in enumerate(DEMO_CLIPS):
            spec = ClipSpec(
                camera_id=camera,
                start=datetime.combine(day, start, tzinfo=tz),
                seconds=DEMO_CLIP_SECONDS,
                seed=seed + offset,
            )
            path = Path(tmp) / f"{spec.clip_name}.mp4"
            upload_clip(store, path, render_clip(spec, path))
            keys.append(spec.clip_name)
    return keys

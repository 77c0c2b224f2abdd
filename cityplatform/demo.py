"""``city demo``: one simulated city day through the whole platform on the embedded default.

Starts the S3 server, writes a day of city data into landing, runs every Dagster job on the local
instance (the same one ``city ui`` opens), and summarises what came in, what was accepted, what was
quarantined and why, and where everything lies.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import dagster as dg

from cityplatform.dagster_home import local_instance
from cityplatform.embedded_s3 import EmbeddedS3, ServerState
from cityplatform.objectstore import CORE_BUCKETS, ObjectStore
from cityplatform.settings import Settings
from citysim import DayTruth, build_city, write_iot_day
from governance.registry.departments import mart_buckets

# Jobs in dependency order; True where the job is partitioned by day.
DEMO_JOBS: tuple[tuple[str, bool], ...] = (
    ("iot_registry", False),
    ("iot_ingest_day", True),
    ("marts_build_day", True),
)


# The summary is the demo's output; run logs stay in the instance for the UI.
_QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class JobOutcome:
    name: str
    success: bool
    run_id: str
    materializations: dict[str, dict[str, object]] = field(default_factory=dict)  # asset -> metadata
    failed_checks: list[str] = field(default_factory=list)


@dataclass
class DemoSummary:
    day: date
    server: ServerState
    truth: DayTruth
    jobs: list[JobOutcome]

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


def _plain(value: dg.MetadataValue) -> object:
    return getattr(value, "value", value)


def run_job(
    definitions: dg.Definitions, name: str, instance: dg.DagsterInstance, partition_key: str | None
) -> JobOutcome:
    result = definitions.resolve_job_def(name).execute_in_process(
        instance=instance, partition_key=partition_key, raise_on_error=False, run_config=_QUIET
    )
    outcome = JobOutcome(name, result.success, result.run_id)
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        outcome.materializations[materialization.asset_key.to_user_string()] = {
            key: _plain(value) for key, value in materialization.metadata.items()
        }
    for evaluation in result.get_asset_check_evaluations():
        # a check of warn severity (a dbt test configured to warn) reports without failing the demo
        if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
            outcome.failed_checks.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    return outcome


def run_demo(settings: Settings, day: date, *, sensors: int, seed: int, fault_rate: float) -> DemoSummary:
    from orchestration.definitions import defs  # imported late: loading it reads the settings

    server = EmbeddedS3.from_settings(settings)
    state = server.start()
    store = ObjectStore.from_settings(settings)
    store.ensure_buckets([*CORE_BUCKETS, *mart_buckets()])
    truth = write_iot_day(
        store, build_city(seed=seed, sensors=sensors), day, seed=seed, fault_rate=fault_rate
    )
    instance = local_instance(settings)
    definitions = defs()
    jobs = [
        run_job(definitions, name, instance, day.isoformat() if partitioned else None)
        for name, partitioned in DEMO_JOBS
    ]
    return DemoSummary(day, state, truth, jobs)

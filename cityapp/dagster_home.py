"""The local Dagster instance shared by ``city demo`` and ``city ui``, so the UI shows the demo's runs,
and the code location as the ``city`` commands load it."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.definitions.repository_definition import SINGLETON_REPOSITORY_NAME
from dagster._core.execution.api import execute_run
from dagster._core.execution.execute_in_process import merge_run_tags
from dagster._core.remote_origin import (
    ManagedGrpcPythonEnvCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from cityplatform.settings import Settings

# The code location as `dagster dev` (pyproject's [tool.dagster]) and infra/dagster/workspace.yaml name it.
CODE_LOCATION = "smart_city"
CODE_LOCATION_MODULE = "orchestration.definitions"

# Local instance: SQLite storage in the platform home, the queue and pools of infra/dagster/dagster.yaml
# at a laptop's size; no telemetry from a city's machines. Written by the platform: edits are replaced.
_LOCAL_INSTANCE_YAML = """\
# Written by `city` (cityapp/dagster_home.py); edits are replaced on the next command.
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 2
  # One run at a time per pool (warehouse: DuckDB has one writer; vision: one GPU), held in the queue.
  pools:
    default_limit: 1
    granularity: run
# A run whose process died is marked failed rather than holding its pool's slot as "started".
run_monitoring:
  enabled: true
"""


def prepare_dagster_home(settings: Settings) -> Path:
    """Create ``<home>/dagster`` with its dagster.yaml and export DAGSTER_HOME pointing at it."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text() != _LOCAL_INSTANCE_YAML:
        config.write_text(_LOCAL_INSTANCE_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def local_instance(settings: Settings) -> dg.DagsterInstance:
    prepare_dagster_home(settings)
    return dg.DagsterInstance.get()


def load_definitions(*, refresh_manifest: bool) -> dg.Definitions:
    """The code location as the ``city`` commands run it, with dbt's manifest prepared first: the
    code location only reads it, and preparing it is the application's job (``dagster dev`` does it
    for ``city ui``). ``refresh_manifest``: parse again even if there is one (an edited model makes it
    stale), for what builds the models; otherwise only a missing one is prepared (a fresh clone)."""
    from orchestration.lib.dbt import MARTS_PROJECT

    if refresh_manifest or not MARTS_PROJECT.manifest_path.exists():
        MARTS_PROJECT.preparer.prepare(MARTS_PROJECT)
    from orchestration.definitions import defs  # after the manifest: loading the marts reads it

    return defs()


def code_location_job_origin(job_name: str) -> RemoteJobOrigin:
    """Where the UI finds ``job_name``: the ``smart_city`` code location's repository."""
    target = LoadableTargetOrigin(executable_path=sys.executable, module_name=CODE_LOCATION_MODULE)
    location = ManagedGrpcPythonEnvCodeLocationOrigin(target, location_name=CODE_LOCATION)
    return RemoteRepositoryOrigin(location, SINGLETON_REPOSITORY_NAME).get_job_origin(job_name)


def execute_as_code_location_run(
    definitions: dg.Definitions,
    job_name: str,
    instance: dg.DagsterInstance,
    *,
    partition_key: str | None,
    run_config: Mapping[str, object],
) -> dg.JobExecutionResult:
    """Execute a job in this process as a run of the code location, so that the UI lists it on the
    Overview timeline and the job's page like a launched run (``execute_in_process`` records runs
    with no code location, which both views leave out).

    In process rather than submitted: a launched run re-imports the code location (about 9 s of
    CPU here), which would add most of a minute to the demo's six runs on a 2-core laptop.
    """
    job = definitions.resolve_job_def(job_name).with_executor_def(dg.in_process_executor)
    tags = merge_run_tags(job, partition_key, None, None, instance, None)
    run = instance.create_run_for_job(
        job_def=job, run_config=run_config, tags=tags, remote_job_origin=code_location_job_origin(job_name)
    )
    return execute_run(InMemoryJob(job), run, instance)

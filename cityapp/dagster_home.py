"""The local Dagster instance shared by ``city demo`` and ``city ui``, so the UI shows the demo's runs,
and the code location as the ``city`` commands load it."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from cityplatform.settings import Settings

# Local instance: SQLite storage in the platform home; no telemetry from a city's machines.
_LOCAL_INSTANCE_YAML = """\
telemetry:
  enabled: false
run_queue:
  max_concurrent_runs: 2
"""


def prepare_dagster_home(settings: Settings) -> Path:
    """Create ``<home>/dagster`` with its dagster.yaml and export DAGSTER_HOME pointing at it."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
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

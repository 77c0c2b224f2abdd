"""The local Dagster instance shared by ``city demo`` and ``city ui``, so the UI shows the demo's runs."""

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

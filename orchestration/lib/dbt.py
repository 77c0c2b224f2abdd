"""dbt for the marts: where the project is, its environment from the platform settings, its manifest.

The manifest is prepared the dagster-dbt way, never by importing the code location: ``dagster dev``
(``city ui``) prepares it on every load through :meth:`DbtProject.prepare_if_dev`; the image prepares
it at build time (``dagster-dbt project prepare-and-package --file orchestration/lib/dbt.py``); the
demo and the tests call ``MARTS_PROJECT.preparer.prepare(MARTS_PROJECT)`` before loading it.

``dbt_project/profiles.yml`` reads the warehouse path and the S3 settings from environment
variables; :func:`dbt_env` derives them from :func:`~cityplatform.settings.load_settings`, so dbt
sees the same endpoint, credentials (secret files included) and timezone as every other asset.
DuckDB cannot download extensions here: httpfs comes from the PyPI package
``duckdb-extension-httpfs``, laid out as an extension directory in which dbt-duckdb's
``INSTALL httpfs`` finds it without a download.

Run dbt by hand with the same environment: ``.venv/bin/python -m orchestration.lib.dbt docs generate``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import duckdb_extension_httpfs
from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject, DbtProjectPreparer
from dagster_shared.record import replace
from filelock import FileLock

from cityplatform.settings import Settings, SettingsError, load_settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# The dbt installed beside this Python, so a run finds it without the virtualenv on PATH.
DBT_EXECUTABLE = os.fspath(Path(sys.executable).with_name("dbt"))
# Scheduled builds leave out unit tests: they check SQL logic on fixtures, once per change, in CI.
# Dagster reads what it needs from dbt's structured log on stdout (warnings and errors included)
# and the compiled SQL, so a build skips writing manifest.json and run_results.json and keeps no
# log file: dbt formats every debug event of every query for a file logger before filtering by
# level, so even a warn-level file costs 1-2 s of a 30-day build here.
PRODUCTION_FLAGS = ("--no-write-json", "--log-level-file", "none")
PRODUCTION_BUILD = ("build", "--exclude-resource-type", "unit_test", *PRODUCTION_FLAGS)
# Only one process may write the DuckDB warehouse: the dbt build, the exports and retention's
# deletion of expired days share this pool.
WAREHOUSE_POOL = "warehouse"
# The run window of a build, read by the run_window macro (dbt_project/macros/run_window.sql).
WINDOW_ENV = ("CITY_MIN_DATE", "CITY_MAX_DATE")


def httpfs_extension_directory(settings: Settings) -> Path:
    """``<home>/duckdb_extensions/v<duckdb>/<platform>/httpfs.duckdb_extension``, copied from PyPI."""
    packaged = Path(duckdb_extension_httpfs.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    source = packaged / "httpfs.duckdb_extension"
    if not source.is_file():
        raise FileNotFoundError(
            f"{source} is missing: install duckdb-extension-httpfs=={duckdb.__version__} (same as duckdb)"
        )
    platform = duckdb.execute("pragma platform").fetchone()[0]  # type: ignore[index]
    root = settings.home_dir / "duckdb_extensions"
    target = root / f"v{duckdb.__version__}" / platform / "httpfs.duckdb_extension"
    if not target.is_file() or target.stat().st_size != source.stat().st_size:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")
        shutil.copyfile(source, partial)
        partial.replace(target)  # atomic: a concurrent LOAD never sees half a file
    return root


def dbt_env(settings: Settings) -> dict[str, str]:
    """What ``profiles.yml`` reads; ``DBT_ENV_SECRET_`` names keep the keys out of dbt logs."""
    settings.home_dir.mkdir(parents=True, exist_ok=True)
    return {
        "CITY_WAREHOUSE_PATH": str(settings.warehouse_path),
        "CITY_DUCKDB_EXTENSION_DIR": str(httpfs_extension_directory(settings)),
        "CITY_S3_ENDPOINT": settings.s3_endpoint,
        "CITY_S3_SECURE": str(settings.s3_secure).lower(),
        "CITY_S3_REGION": settings.s3_region,
        "CITY_S3_CA_FILE": str(settings.s3_ca_file or ""),
        "CITY_TIMEZONE": settings.timezone,
        "DBT_ENV_SECRET_S3_ACCESS_KEY": settings.s3_access_key.get_secret_value(),
        "DBT_ENV_SECRET_S3_SECRET_KEY": settings.s3_secret_key.get_secret_value(),
    }


class MartsPreparer(DbtProjectPreparer):
    """dagster-dbt's preparation (``dbt parse`` into the manifest) with the dbt beside this Python
    and the platform's dbt environment, which dagster-dbt's default preparer would not use.

    ``dbt parse`` needs no connection, no ``dbt deps`` and no internet. It parses with the platform's
    dbt environment: dagster-dbt copies the ``partial_parse.msgpack`` written here into every run,
    and dbt re-parses the whole project (6-13 s of a build here) unless the profile it was parsed
    with (warehouse path, extension directory, timezone) is the run's.
    """

    def prepare_if_dev(self, project: DbtProject) -> None:
        if self.using_dagster_dev():
            self.prepare(project)

    def prepare(self, project: DbtProject) -> None:
        manifest = project.manifest_path
        manifest.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(manifest.with_suffix(".lock")):  # another process may be preparing it
            _parse(project.project_dir / project.target_path)


# dagster-dbt 0.29 takes no preparer argument: the project is rebuilt with ours (a record field).
MARTS_PROJECT = replace(DbtProject(project_dir=DBT_PROJECT_DIR), preparer=MartsPreparer())


def _parse(target_path: Path) -> None:
    try:
        env = dbt_env(load_settings())
    except SettingsError:  # settings that cannot load now fail the run later, with the same message
        env = {}
    result = subprocess.run(
        [DBT_EXECUTABLE, "parse", "--quiet"],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **env, "DBT_TARGET_PATH": os.fspath(target_path)},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        output = result.stdout[-4000:] + result.stderr[-2000:]
        raise RuntimeError(f"dbt parse failed in {DBT_PROJECT_DIR}:\n{output}")


def partition_window(start: datetime, end: datetime) -> dict[str, str]:
    """The environment that hands dbt a partition window ``[start, end)``: inclusive local dates.

    Not ``--vars``: any change of vars makes dbt re-parse the whole project on every run, while
    the ``run_window`` macro reads these variables only at execution, so partial parsing holds.
    """
    first, last = start.date(), (end - timedelta(days=1)).date()
    return dict(zip(WINDOW_ENV, (first.isoformat(), last.isoformat()), strict=True))


class CityDbt(dg.ConfigurableResource):
    """dbt CLI for the marts project, with the warehouse and S3 settings of this deployment."""

    def cli(
        self,
        args: Sequence[str],
        *,
        context: dg.AssetExecutionContext,
        window: Mapping[str, str] | None = None,
    ) -> DbtCliInvocation:
        """``window`` (from :func:`partition_window`) sets the dates a build replaces; else yesterday."""
        # dagster-dbt passes this process's environment to dbt and renders the profile in-process.
        os.environ.update(dbt_env(load_settings()))
        for name in WINDOW_ENV:
            os.environ.pop(name, None)  # never a window left over from an earlier run in this process
        os.environ.update(window or {})
        dbt = DbtCliResource(project_dir=os.fspath(DBT_PROJECT_DIR), dbt_executable=DBT_EXECUTABLE)
        return dbt.cli(list(args), context=context)


def main(argv: Sequence[str]) -> int:
    """``python -m orchestration.lib.dbt <dbt args>``: dbt in the project with the platform's settings."""
    env = {**os.environ, **dbt_env(load_settings())}
    return subprocess.call([DBT_EXECUTABLE, *argv], cwd=DBT_PROJECT_DIR, env=env)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

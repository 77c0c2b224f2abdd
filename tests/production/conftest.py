"""Fixtures of the production tests: one PostgreSQL cluster for the session (``postgres.py``), and for
a module that asks for it the platform's production topology on a database of its own
(``topology.py``): the instance of infra/dagster/dagster.yaml, a gRPC code server and the daemon,
with the module's S3 server, home and settings (``city_env``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.governance.registry_files import trained_registry
from tests.production.postgres import PostgresServer, temporary_postgres
from tests.production.topology import Platform, running_platform

# The pool limits the daemon's container sets at start: the vision pool at 2 shows that it is the
# operator's number, not the default of 1.
POOL_LIMITS = {"warehouse": 1, "vision": 2}


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    with temporary_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def first_day() -> date | None:
    """The code location's CITY_FIRST_DAY (where the daily partitions start); a module that lands
    days overrides this with its first."""
    return None


@pytest.fixture(scope="module")
def platform(
    request: pytest.FixtureRequest,
    postgres: PostgresServer,
    city_env: Path,
    first_day: date | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Platform]:
    """The topology on a database named after the module; stewards trained, so that the blocking
    stewardship checks pass whatever the date."""
    database = "dagster_" + request.module.__name__.rsplit(".", 1)[-1]
    postgres.create_database(database)
    base = tmp_path_factory.mktemp("production")
    settings = {
        **postgres.dagster_env(database),
        "CITY_GOVERNANCE_REGISTRY": str(trained_registry(base / "registry")),
        "DBT_TARGET_PATH": str(base / "dbt_target"),  # not the checkout's dbt_project/target
        "CITY_POOL_LIMITS": " ".join(f"{pool}={limit}" for pool, limit in POOL_LIMITS.items()),
    }
    if first_day is not None:
        settings["CITY_FIRST_DAY"] = first_day.isoformat()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in settings.items():
            patch.setenv(name, value)
        with running_platform(base / "dagster_home", os.environ) as running:
            yield running

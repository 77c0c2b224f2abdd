"""Fixtures of the Dagster tests: a test instance and the code location per module, loaded on the
module's platform environment (``city_env``), and the governance set-up with one simulated IoT day."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from cityplatform.objectstore import ObjectStore
from cityplatform.settings import load_settings
from citysim import build_city, write_iot_day
from orchestration.definitions import defs
from tests.orchestration.governance_env import GOVERNANCE_DAY, registry


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test(temp_dir=str(tmp_path_factory.mktemp("dagster"))) as test_instance:
        yield test_instance


@pytest.fixture(scope="module")
def definitions(city_env: Path) -> dg.Definitions:
    """The code location, loaded with this module's settings (a governance module requests
    ``governance_env`` first, by ``usefixtures``)."""
    return defs()


@pytest.fixture(scope="module")
def governance_env(city_env: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A registry copy where everyone is trained a month before today, so that outcomes do not drift
    with the calendar; returns a folder for the tests' other copies."""
    base = tmp_path_factory.mktemp("governance")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CITY_GOVERNANCE_REGISTRY", str(registry(base, "trained")))
        yield base


@pytest.fixture(scope="module")
def iot_day(
    governance_env: Path, store: ObjectStore, definitions: dg.Definitions, instance: dg.DagsterInstance
) -> str:
    """One simulated day in landing and the sensor registry in bronze (same city as the IoT tests)."""
    city = build_city(seed=7, sensors=40)
    write_iot_day(store, city, GOVERNANCE_DAY, tz=load_settings().zone, seed=7, fault_rate=0.01)
    assert definitions.resolve_job_def("iot_registry").execute_in_process(instance=instance).success
    return GOVERNANCE_DAY.isoformat()

"""The demo's runs are recorded as runs of the code location that `city ui` and infra/ serve."""

import tomllib
from pathlib import Path

from cityapp.dagster_home import CODE_LOCATION, CODE_LOCATION_MODULE, code_location_job_origin

PYPROJECT = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())


def test_the_demo_names_the_code_location_as_dagster_dev_does() -> None:
    assert PYPROJECT["tool"]["dagster"]["code_location_name"] == CODE_LOCATION
    assert PYPROJECT["tool"]["dagster"]["module_name"] == CODE_LOCATION_MODULE
    origin = code_location_job_origin("marts_build_day")
    assert origin.repository_origin.get_label() == f"__repository__@{CODE_LOCATION}"

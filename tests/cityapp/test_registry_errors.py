"""A broken registry through the commands that read it before anything else: one line, exit 2.

The same registry error leaves the code location loading (``tests/orchestration``: ingestion runs,
every ``steward_trained`` check fails with the line); a person running ``city`` gets that line and
exit 2, never a traceback, and ``city demo`` stops before it lands or starts anything.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityapp.cli.main import app
from cityplatform.exits import EXIT_CONFIG
from cityplatform.yamlfiles import RegistryError
from governance.registry.registry import load_registry
from tests.governance.registry_files import copy_registry


@pytest.fixture
def typo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A registry copy whose first training record says ``coursse:``; its error, as the loader says it."""
    directory = copy_registry(tmp_path / "registry")
    training = directory / "training.yaml"
    training.write_text(training.read_text().replace("course:", "coursse:", 1))
    monkeypatch.setenv("CITY_GOVERNANCE_REGISTRY", str(directory))
    monkeypatch.setenv("CITY_HOME", str(tmp_path / "home"))
    with pytest.raises(RegistryError) as error:
        load_registry(directory)
    return str(error.value)


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--sensors", "10"],
        ["access", "show"],
        ["access", "sync"],
        ["stewards", "history", "iot/raw/readings"],
    ],
    ids=" ".join,
)
def test_a_broken_registry_is_its_one_line_and_exit_2(args: list[str], typo: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, args)
    assert not isinstance(result.exception, RegistryError), result.output
    assert result.exit_code == EXIT_CONFIG, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {typo}"]
    assert "training.yaml: completions[0]" in typo
    assert not (tmp_path / "home" / "s3").exists()  # the demo started no server, landed nothing

"""Every command that prints data has ``--json`` for scripts, and its JSON is alone on stdout."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from cityapp.cli.main import app
from governance.registry.registry import load_registry

PRINTS_DATA = (
    ("demo",),
    ("simulate", "iot"),
    ("access", "show"),
    ("access", "sync"),
    ("storage", "status"),
    ("stewards", "me"),
    ("stewards", "handover"),
    ("stewards", "history"),
    ("stewards", "verify"),
    ("lineage", "show"),
    ("lineage", "report"),
    ("incidents", "list"),
    ("incidents", "ack"),
    ("vision", "run"),
    ("vision", "evaluate"),
    ("vision", "train"),
    ("verify",),
)


def _options(path: tuple[str, ...]) -> set[str]:
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]  # a group's subcommands
    return {opt for param in command.params for opt in param.opts}


@pytest.mark.parametrize("path", PRINTS_DATA, ids=" ".join)
def test_a_command_that_prints_data_has_json(path: tuple[str, ...]) -> None:
    assert "--json" in _options(path)


def test_access_show_json_lists_every_grant_with_its_status() -> None:
    result = CliRunner().invoke(app, ["access", "show", "--on", "2026-01-01", "--json"])
    assert result.exit_code == 0, result.output
    grants = json.loads(result.stdout)
    assert len(grants) == len(load_registry().grants)
    assert {g["status"] for g in grants} <= {"current", "renew soon", "expired"}

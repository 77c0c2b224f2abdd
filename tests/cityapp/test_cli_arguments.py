"""Mistyped arguments get one line naming the option and exit 2, before any server is touched."""

from __future__ import annotations

from importlib.metadata import version

import pytest
from typer.testing import CliRunner

from cityapp.cli.main import app
from cityplatform.exits import EXIT_CONFIG


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["demo", "--day", "yesterday"], "--day"),
        (["simulate", "iot", "--day", "2026-13-01"], "--day"),
        (["stewards", "me", "--staff-id", "S-014", "--on", "2026/01/01"], "--on"),
        (["access", "show", "--on", "tomorrow"], "--on"),
        (["access", "sync", "--on", "31-12-2026"], "--on"),
    ],
)
def test_a_bad_day_is_one_line_naming_the_option(args: list[str], option: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == EXIT_CONFIG, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {option}=") and "YYYY-MM-DD" in lines[0]


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"city {version('smart-city-platform')}"

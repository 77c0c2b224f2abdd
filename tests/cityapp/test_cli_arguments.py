"""Mistyped arguments get one line naming the option and exit 2, before any server is touched."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version

import pytest
import typer
from typer.testing import CliRunner

from cityapp.cli.main import app
from cityplatform.exits import EXIT_CONFIG

BAD_DAYS = [
    (["demo", "--day", "yesterday"], "--day"),
    (["demo", "--day", "1969-12-31"], "--day"),  # refused before anything lands: no partition can hold it
    (["demo", "--day", "2999-01-01"], "--day"),
    (["simulate", "iot", "--day", "2026-13-01"], "--day"),
    (["simulate", "iot", "--day", "1969-12-31"], "--day"),
    (["stewards", "me", "--staff-id", "S-014", "--on", "2026/01/01"], "--on"),
    (["access", "show", "--on", "tomorrow"], "--on"),
    (["access", "sync", "--on", "31-12-2026"], "--on"),
    (["verify", "--from", "2026-02-30", "--to", "2026-03-01"], "--from"),
    (["verify", "--from", "2026-03-01", "--to", "tomorrow"], "--to"),
]


def _day_options(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """(command path, option) for every option of every subcommand whose help asks for YYYY-MM-DD."""
    for name, sub in getattr(command, "commands", {}).items():
        yield from _day_options(sub, (*path, name))
    for param in getattr(command, "params", []):
        if "YYYY-MM-DD" in (getattr(param, "help", None) or ""):
            yield path, param.opts[0]


def test_every_day_option_is_tried_below() -> None:
    untried = [
        (path, option)
        for path, option in _day_options(typer.main.get_command(app))
        if not any(tuple(args[: len(path)]) == path and opt == option for args, opt in BAD_DAYS)
    ]
    assert untried == []


@pytest.mark.parametrize(("args", "option"), BAD_DAYS)
def test_a_bad_day_is_one_line_naming_the_option(args: list[str], option: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == EXIT_CONFIG, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {option}=") and "YYYY-MM-DD" in lines[0]


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"city {version('smart-city-platform')}"


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["nosuch"], "No such command 'nosuch'"),
        (["access", "show", "--bogus"], "No such option: --bogus"),
        (["simulate", "iot", "--day", "2026-05-05", "--sensors", "many"], "'--sensors'"),
        (["simulate", "iot", "--day", "2026-05-05", "--fault-rate", "2"], "'--fault-rate'"),
        (["lineage", "show"], "Missing argument"),
        (["vision", "run", "--nosuch"], "No such option: --nosuch"),
    ],
)
def test_every_usage_error_is_one_line_and_exit_2(args: list[str], named: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == EXIT_CONFIG, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: city") and named in lines[0], result.output
    assert "--help" in lines[0]

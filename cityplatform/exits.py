"""Helpers shared by the CLI commands: settings loading and one-line failures with exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import typer
from rich.console import Console

from cityplatform.settings import Settings, SettingsError, load_settings

console = Console()
err_console = Console(stderr=True)

# Exit codes that mean something to scripts calling `city`.
EXIT_CONFIG = 2  # bad settings or arguments
EXIT_STORAGE = 3  # object store unreachable, refused credentials, server will not start
EXIT_DATA = 4  # a run completed but data failed its checks


def fail(message: str, code: int) -> typer.Exit:
    # soft_wrap: one line whatever the width (rich wraps at 80 columns when stderr is not a terminal)
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    return typer.Exit(code)


def day_or_exit(value: str, option: str, between: tuple[date, date] | None = None) -> date:
    """``value`` of ``option`` as a date, or a one-line error (exit 2) naming the option; with
    ``between``, a day outside those two (inclusive) is refused the same way."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}={value!r} is not a day: write it as YYYY-MM-DD", EXIT_CONFIG) from None
    if between is not None and not between[0] <= day <= between[1]:
        first, last = between
        raise fail(
            f"{option}={value!r} is out of range: write a day from {first} to {last} (YYYY-MM-DD)",
            EXIT_CONFIG,
        )
    return day


def settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        raise fail(str(exc), EXIT_CONFIG) from exc


@contextmanager
def exit_on(*errors: type[Exception], code: int) -> Iterator[None]:
    """Turn the listed exceptions into a one-line message and an exit code."""
    try:
        yield
    except errors as exc:
        raise fail(str(exc), code) from exc

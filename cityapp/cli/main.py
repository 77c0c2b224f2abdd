"""``city``: the one command-line entry point for people using the platform."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import version
from typing import Any

import typer

# Typer's own click, whose usage errors (unknown command or option, a value of the wrong type) Typer
# would print as a usage text and an error panel.
from typer._click import Context
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from cityapp.cli import access, demo, incidents, lineage, simulate, stewards, storage
from cityapp.cli.verify import verify_command
from cityplatform.exits import EXIT_CONFIG, fail
from vision_jobs.cli import app as vision_app


@contextmanager
def _one_line() -> Iterator[None]:
    try:
        yield
    except NoArgsIsHelpError:
        raise  # `city` or `city <group>` alone: the help, as asked
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx else "city"
        raise fail(f"{where}: {exc.format_message()} (see {where} --help)", EXIT_CONFIG) from None


class _OneLineUsageErrors(TyperGroup):
    """Every mistyped command, option or value, at any depth, is one line naming it and exit 2, as
    the platform's own errors are (subcommands parse inside this group's invoke)."""

    def make_context(self, *args: Any, **kwargs: Any) -> Context:
        with _one_line():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: Context) -> Any:
        with _one_line():
            return super().invoke(ctx)


app = typer.Typer(
    cls=_OneLineUsageErrors,
    name="city",
    help="Smart-city data platform: storage, simulation, ingestion, CCTV vision, governed marts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _print_version(requested: bool) -> None:
    if requested:
        typer.echo(f"city {version('smart-city-platform')}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: bool = typer.Option(
        False,
        "--version",
        is_flag=True,
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """Smart-city data platform: storage, simulation, ingestion, CCTV vision, governed marts."""


app.add_typer(storage.app, name="storage")
app.add_typer(simulate.app, name="simulate")
app.add_typer(vision_app, name="vision")
app.add_typer(lineage.app, name="lineage")
app.add_typer(stewards.app, name="stewards")
app.add_typer(access.app, name="access")
app.add_typer(incidents.app, name="incidents")
app.command()(demo.demo)
app.command()(demo.ui)
app.command("verify")(verify_command)

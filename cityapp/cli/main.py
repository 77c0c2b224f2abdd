"""``city``: the one command-line entry point for people using the platform."""

from __future__ import annotations

from importlib.metadata import version

import typer

from cityapp.cli import access, demo, incidents, lineage, simulate, stewards, storage
from vision_jobs.cli import app as vision_app

app = typer.Typer(
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

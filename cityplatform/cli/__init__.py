"""``city``: the one command-line entry point for people using the platform."""

from __future__ import annotations

import typer

from cityplatform.cli import demo, simulate, storage

app = typer.Typer(
    name="city",
    help="Smart-city data platform: storage, simulation, ingestion, governed marts.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(storage.app, name="storage")
app.add_typer(simulate.app, name="simulate")
app.command()(demo.demo)
app.command()(demo.ui)

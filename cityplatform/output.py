"""What every command that prints data shares (``city``, ``python -m vision_jobs``): ``--json``
for scripts, progress for people.

JSON goes to stdout alone; progress and errors go to stderr, so ``city ... --json | jq`` always
reads clean JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from cityplatform.exits import err_console

JSON_OPTION = typer.Option(False, "--json", help="Print JSON (for scripts) instead of tables.")


def print_json(data: object) -> None:
    """``data`` as indented JSON on stdout; dates, paths and other values as their strings."""
    typer.echo(json.dumps(data, indent=2, default=str))


@contextmanager
def stage_progress() -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on stderr for long work told in stages: call the yielded function with what
    starts now, how many stages are done and how many there are in all."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err_console) as progress:
        task = progress.add_task("starting", total=None)

        def show(what: str, done: int, total: int) -> None:
            progress.update(task, description=what, completed=done, total=total)

        yield show

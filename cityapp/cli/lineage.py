"""``city lineage <dataset>`` and ``city lineage report``: lineage review from the emitted events.

Both read the events back (the object-store archive by default, or the local file transport's files
with ``--source file``), so what a steward reviews is exactly what went to Marquez.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import click
import typer
from rich.markup import escape
from typer.core import TyperGroup

from cityplatform.exits import EXIT_CONFIG, EXIT_STORAGE, console, exit_on, fail, settings_or_exit
from cityplatform.objectstore import ObjectStore, ObjectStoreError
from governance.lineage.graph import DatasetState, LineageGraph
from governance.lineage.history import archived_events, file_events
from governance.lineage.naming import DatasetId
from governance.lineage.report import render_html


class Source(StrEnum):
    archive = "archive"
    file = "file"


class _DatasetOrCommand(TyperGroup):
    """``city lineage <dataset>`` is short for ``city lineage show <dataset>``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_DatasetOrCommand,
    help="Review lineage: upstream and downstream of a dataset, or the HTML report.",
    no_args_is_help=True,
)

SOURCE_OPTION = typer.Option(Source.archive, help="Read events from the S3 archive or the local files.")


def _graph(source: Source) -> LineageGraph:
    settings = settings_or_exit()
    if source is Source.file:
        return LineageGraph(file_events(settings.lineage_dir))
    store = ObjectStore.from_settings(settings)
    with exit_on(ObjectStoreError, code=EXIT_STORAGE):
        store.ping()
    return LineageGraph(archived_events(store))


def _owners(state: DatasetState) -> str:
    return ", ".join(f"{role} {owner.removeprefix('user:')}" for role, owner in state.owners) or "-"


def _checks(state: DatasetState) -> str:
    if not state.checks:
        return "no checks"
    passed = sum(c.success for c in state.checks)
    failed = ", ".join(sorted({c.name for c in state.failed_checks}))
    return f"{state.check_status} {passed}/{len(state.checks)}" + (f" ({failed})" if failed else "")


def _last_run(state: DatasetState) -> str:
    if not (state.last_state and state.last_event_at):
        return "-"
    partition = f" (partition {state.last_partition})" if state.last_partition else ""
    return f"{state.last_state} {state.last_event_at[:19]}{partition}"


def _describe(state: DatasetState) -> list[str]:
    """Owners, labels, checks and last run of a dataset, one short line each."""
    labels = ", ".join(f"{k} {v}" for k, v in state.tags.items()) or "no classification recorded"
    if state.pii_columns:
        labels += f"; PII columns: {', '.join(state.pii_columns)}"
    rows = "" if state.row_count is None else f"; {state.row_count:,} rows"
    return [
        f"owners: {_owners(state)}",
        labels,
        f"checks: {_checks(state)}; last run: {_last_run(state)}{rows}",
    ]


def _print_related(title: str, graph: LineageGraph, related: list[tuple[int, DatasetId]]) -> None:
    if not related:
        console.print(f"{title}: none recorded")
        return
    console.print(f"[bold]{title}[/] ({len(related)}, by steps away)")
    for distance, dataset in related:
        state = graph.datasets[dataset]
        console.print(f"  {distance}  {escape(state.job or '-')}  {escape(dataset.uri)}", highlight=False)
        for line in _describe(state):
            console.print(f"       {escape(line)}", highlight=False)


@app.command()
def show(
    dataset: str = typer.Argument(..., help="Asset key (iot/bronze/readings) or s3:// URI of the dataset."),
    source: Source = SOURCE_OPTION,
) -> None:
    """Upstream and downstream datasets, with owners and the last check status of each."""
    graph = _graph(source)
    try:
        target = graph.resolve(dataset)
    except KeyError as exc:
        raise fail(exc.args[0], EXIT_CONFIG) from exc
    state = graph.datasets[target]
    console.print(f"[bold]{escape(state.job or '-')}[/]  {escape(target.uri)}", highlight=False)
    for line in _describe(state):
        console.print(f"  {escape(line)}", highlight=False)
    _print_related("upstream", graph, graph.upstream(target))
    _print_related("downstream", graph, graph.downstream(target))


@app.command()
def report(
    output: Path | None = typer.Option(
        None, help="Where to write; default <CITY_HOME>/reports/lineage.html."
    ),
    source: Source = SOURCE_OPTION,
) -> None:
    """Write the HTML lineage report: the graph drawn, and every dataset's owners, checks and last run."""
    graph = _graph(source)
    path = output or settings_or_exit().reports_dir / "lineage.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(graph))
    console.print(f"lineage report of {len(graph.datasets)} datasets written to {path}")

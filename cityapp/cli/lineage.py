"""``city lineage <dataset>`` and ``city lineage report [<dataset>]``: lineage review from the emitted events.

Both read the events back (the object-store archive by default, or the local file transport's files
with ``--source file``), so what a steward reviews is exactly what went to Marquez. A dataset is named
by its asset key, its location, or any object in it (``s3://marts-traffic/<mart>/date=.../<mart>.parquet``
is that mart's). Owners are shown by name, from the governance registry; the pages link every dataset
to its asset page in the Dagster UI at ``--dagster-url`` (``CITY_DAGSTER_URL``).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import click
import typer
from rich.markup import escape
from typer.core import TyperGroup

from cityplatform.exits import (
    EXIT_CONFIG,
    EXIT_STORAGE,
    console,
    err_console,
    exit_on,
    fail,
    settings_or_exit,
)
from cityplatform.layout import LINEAGE_EVENTS_PREFIX
from cityplatform.objectstore import LINEAGE, ObjectStore, ObjectStoreError
from cityplatform.output import JSON_OPTION, print_json, stage_progress
from cityplatform.yamlfiles import RegistryError
from governance.lineage.graph import LineageGraph
from governance.lineage.history import archived_events, file_events
from governance.lineage.naming import DatasetId
from governance.lineage.report import (
    DEFAULT_DAGSTER_URL,
    DEFAULT_HOPS,
    Labels,
    check_counts,
    label,
    last_run,
    page_name,
    render_dataset_html,
    render_overview_html,
    summary,
)
from governance.registry.registry import load_registry


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
    help="Review lineage: upstream and downstream of a dataset, or the HTML pages.",
    no_args_is_help=True,
)

SOURCE_OPTION = typer.Option(Source.archive, help="Read events from the S3 archive or the local files.")
HOPS_OPTION = typer.Option(DEFAULT_HOPS, "--hops", min=1, help="How many steps up and downstream to show.")
DAGSTER_URL_OPTION = typer.Option(
    DEFAULT_DAGSTER_URL,
    "--dagster-url",
    envvar="CITY_DAGSTER_URL",
    help="The Dagster UI the pages link each dataset's asset page to.",
)
DATASET_HELP = "Asset key (iot/bronze/readings), location, or an object in it: s3://bucket/key or bucket/key."


def _graph(source: Source) -> LineageGraph:
    """The graph of the events, with a spinner on stderr meanwhile (seconds on a long history)."""
    settings = settings_or_exit()
    if source is Source.file:
        with err_console.status(f"reading lineage events from {settings.lineage_dir}"):
            return LineageGraph(file_events(settings.lineage_dir))
    store = ObjectStore.from_settings(settings)
    with (
        exit_on(ObjectStoreError, code=EXIT_STORAGE),
        err_console.status(f"reading lineage events from s3://{LINEAGE}/{LINEAGE_EVENTS_PREFIX}"),
    ):
        store.ping()
        return LineageGraph(archived_events(store))


def _labels(dagster_url: str) -> Labels:
    """Owners' names from the registry's staff list, and where the Dagster UI is."""
    with exit_on(RegistryError, code=EXIT_CONFIG):
        staff = load_registry().staff.values()
    return Labels({member.email.lower(): member.name for member in staff}, dagster_url)


def _resolve(graph: LineageGraph, dataset: str) -> DatasetId:
    try:
        return graph.resolve(dataset)
    except KeyError as exc:
        raise fail(exc.args[0], EXIT_CONFIG) from exc


def _describe(graph: LineageGraph, dataset: DatasetId, about: dict[str, Any]) -> list[str]:
    """Owners, labels, checks and last run of a dataset, one short line each."""
    state = graph.datasets[dataset]
    owners = ", ".join(f"{o['role']} {o['name']}" for o in about["owners"])
    labels = (
        "; ".join(f"{key} {about[key]}" for key in ("classification", "department") if about[key])
        or "no classification recorded"
    )
    personal = "personal data" + (f" ({state.personal_note})" if state.personal_note else "")
    if state.ownership_note:
        owners += f" (from the {state.ownership_note})"
    rows = "" if about["rows"] is None else f"; {about['rows']:,} rows"
    return [
        f"location: {dataset.uri}",
        f"owners: {owners or 'none recorded'}",
        f"{labels}; {personal if about['personal_data'] else 'no personal data'}",
        f"checks: {check_counts(state)}",
        f"last run: {last_run(state)}{rows}",
        *([f"Dagster: {about['dagster_url']}"] if about["dagster_url"] else []),
    ]


def _print_related(
    title: str, graph: LineageGraph, labels: Labels, related: list[tuple[int, DatasetId]], beyond: int
) -> None:
    further = f"; {beyond} more further away (--hops)" if beyond else ""
    if not related:
        console.print(f"{title}: none recorded{further}")
        return
    console.print(f"[bold]{title}[/] ({len(related)}, by steps away{further})")
    for distance, dataset in related:
        about = summary(graph, dataset, labels)
        console.print(f"  {distance}  {escape(about['dataset'])}", highlight=False)
        for line in _describe(graph, dataset, about):
            console.print(f"       {escape(line)}", highlight=False)


@app.command()
def show(
    dataset: str = typer.Argument(..., help=DATASET_HELP),
    source: Source = SOURCE_OPTION,
    hops: int = HOPS_OPTION,
    dagster_url: str = DAGSTER_URL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Upstream and downstream datasets, with owners and the verdict of each one's own checks."""
    graph = _graph(source)
    labels = _labels(dagster_url)
    target = _resolve(graph, dataset)
    upstream, downstream = graph.upstream(target, hops), graph.downstream(target, hops)
    if as_json:
        print_json(
            {
                **summary(graph, target, labels),
                "hops": hops,
                "upstream": [{"steps": n, **summary(graph, d, labels)} for n, d in upstream],
                "downstream": [{"steps": n, **summary(graph, d, labels)} for n, d in downstream],
            }
        )
        return
    about = summary(graph, target, labels)
    console.print(f"[bold]{escape(about['dataset'])}[/]", highlight=False)
    for line in _describe(graph, target, about):
        console.print(f"  {escape(line)}", highlight=False)
    _print_related("upstream", graph, labels, upstream, len(graph.upstream(target)) - len(upstream))
    _print_related("downstream", graph, labels, downstream, len(graph.downstream(target)) - len(downstream))


@app.command()
def report(
    dataset: str | None = typer.Argument(
        None, help=f"Write this dataset's page only. {DATASET_HELP}", show_default=False
    ),
    output: Path | None = typer.Option(
        None,
        help="Where to write; default <CITY_HOME>/reports/lineage.html, a dataset's page under "
        "<CITY_HOME>/reports/lineage/.",
    ),
    source: Source = SOURCE_OPTION,
    hops: int = HOPS_OPTION,
    dagster_url: str = DAGSTER_URL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Write the HTML lineage pages: one dataset's, or the overview with a page for every dataset."""
    graph = _graph(source)
    labels = _labels(dagster_url)
    reports = settings_or_exit().reports_dir
    if dataset is not None:
        target = _resolve(graph, dataset)
        path = output or reports / "lineage" / page_name(graph.datasets[target])
        path.parent.mkdir(parents=True, exist_ok=True)
        with err_console.status(f"drawing the lineage of {dataset}"):
            path.write_text(render_dataset_html(graph, target, labels, hops))
        written = {"dataset": label(graph.datasets[target]), "page": str(path), "pages": []}
        message = f"lineage of {written['dataset']}, {hops} steps each way, written to {path}"
    else:
        path = output or reports / "lineage.html"
        pages = path.with_suffix("")  # lineage.html links to lineage/<dataset>.html
        pages.mkdir(parents=True, exist_ok=True)
        written_pages = []
        with stage_progress() as progress:
            for done, (target, state) in enumerate(sorted(graph.datasets.items())):
                progress(f"drawing {state.job or target.uri}", done, len(graph.datasets))
                page = pages / page_name(state)
                page.write_text(render_dataset_html(graph, target, labels, hops, overview=f"../{path.name}"))
                written_pages.append(str(page))
            progress("drawing the overview", len(graph.datasets), len(graph.datasets))
            path.write_text(render_overview_html(graph, labels, pages=f"{pages.name}/"))
        written = {"dataset": None, "page": str(path), "pages": written_pages}
        message = (
            f"lineage report of {len(graph.datasets)} datasets (one page each in {pages}) written to {path}"
        )
    if as_json:
        print_json(written)
    else:
        console.print(message, highlight=False, soft_wrap=True)  # paths whole, to copy

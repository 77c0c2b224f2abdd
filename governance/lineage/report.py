"""Lineage pages for stewards: one dataset in focus, and an overview that links to every dataset's page.

The focused page draws a dataset with what it is derived from and what derives from it, a few steps
each way, left to right in layers: networkx's topological generations give the layers, a barycentre
ordering keeps edges from crossing, ``multipartite_layout`` places them, and an edge that skips
layers passes through empty slots of the layers between (as in a Sugiyama layout). Every node is a
box of one size on a grid sized from the number of layers and of nodes in the fullest one, its text
shortened to fit the box, so labels never overlap however many nodes there are. A box names the
dataset, its steward (by name, from the registry), classification, its checks' verdict as the checks
say it (PASS, WARN amber, FAIL red) and whether it holds personal data, and links to the dataset's
Dagster asset page. Column lineage (the ``columnLineage`` facet dbt models emit) is a table below.

The overview draws no hairball: a small graph of the domains (asset key prefixes) and how data flows
between them, then one table per domain, verdicts first, each dataset linked to its focused page.
Drawn with matplotlib's SVG backend (no Graphviz binary): the pages open anywhere, offline.
"""

from __future__ import annotations

import bisect
import io
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from itertools import pairwise
from typing import Any
from urllib.parse import quote

import networkx as nx
import numpy as np
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.patches import FancyBboxPatch
from matplotlib.textpath import TextToPath

from governance.lineage.facets import OWNERSHIP_SOURCE
from governance.lineage.graph import TERMINAL_FAILURES, DatasetState, LineageGraph
from governance.lineage.naming import DatasetId
from governance.pages import render_page

DEFAULT_DAGSTER_URL = "http://127.0.0.1:3000"
DEFAULT_HOPS = 2
# A check verdict: the word a page shows, the box's colour (a warning is amber, never red).
STATUS = {
    "passed": ("PASS", "#8fd19e"),
    "warn": ("WARN", "#ffd27f"),
    "failed": ("FAIL", "#f28b82"),
    "no checks": ("no checks", "#e0e0e0"),
}
RUN_FAILED_EDGE = "#c5221f"
FOCUS_EDGE = "#1a56b0"
EDGE = "#8a8a8a"
# The grid, in inches: a box and the pitch of its column and row. Text is fitted to the box.
BOX_W, BOX_H = 2.2, 0.74
COLUMN_PITCH, ROW_PITCH = 2.8, 0.95
PAD = 0.07
PORT_GAP = 0.09  # between the ends of edges on one side of a box
TITLE_PT, DETAIL_PT = 8.0, 7.0
SECTION_LIMIT = 12  # a domain of more datasets is split by the next part of the asset key

_MEASURE = TextToPath()


@dataclass(frozen=True)
class Labels:
    """What the pages show beyond the events: owners' names (the registry) and where Dagster's UI is."""

    names: Mapping[str, str] = field(default_factory=dict)  # e-mail (lower case) -> staff name
    dagster_url: str = DEFAULT_DAGSTER_URL

    def owner(self, owner: str) -> str:
        """``user:kim@city.example`` -> the staff member's name; an unknown e-mail or a team as is."""
        who = owner.split(":", 1)[-1]
        return self.names.get(who.lower(), who)

    def steward(self, state: DatasetState) -> str:
        stewards = [o for role, o in state.owners if role == "steward"] or [o for _, o in state.owners]
        return self.owner(stewards[0]) if stewards else "no owner recorded"

    def asset_url(self, state: DatasetState) -> str | None:
        """The dataset's asset page in the Dagster UI (``/assets/<key path>``), if an asset writes it."""
        return f"{self.dagster_url.rstrip('/')}/assets/{quote(state.job, safe='/')}" if state.job else None


def label(state: DatasetState) -> str:
    return state.job or state.id.uri


def page_name(state: DatasetState) -> str:
    """The file name of a dataset's focused page: its asset key (or location), safe in a URL."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", label(state).replace("://", "_").replace("/", ".")) + ".html"


def check_counts(state: DatasetState) -> str:
    """``passed 3/3``, ``warn 2/3 (warn: steward_trained)``, with the contract rules behind the checks."""
    if not state.checks:
        text = "no checks"
    else:
        passed = sum(c.success for c in state.checks)
        text = f"{state.check_status} {passed}/{len(state.checks)}"
        named = [
            f"{kind}: {', '.join(sorted({c.name for c in checks}))}"
            for kind, checks in (("failed", state.failed_checks), ("warn", state.warned_checks))
            if checks
        ]
        text += f" ({'; '.join(named)})" if named else ""
    if state.rules:
        text += f"; contract rules {sum(r.success for r in state.rules)}/{len(state.rules)} met"
    return text


def summary(lineage: LineageGraph, dataset: DatasetId, labels: Labels) -> dict[str, Any]:
    """Everything the pages and ``city lineage`` say about one dataset, as JSON-ready data."""
    state = lineage.datasets[dataset]
    return {
        "dataset": label(state),
        "asset_key": state.job,
        "location": dataset.uri,
        "owners": [
            {"role": role, "owner": owner.split(":", 1)[-1], "name": labels.owner(owner)}
            for role, owner in state.owners
        ],
        "classification": state.tags.get("classification"),
        "department": state.tags.get("department"),
        "retention_days": state.tags.get("retention_days"),
        "personal_data": state.personal,
        "pii_columns": state.pii_columns,
        "pii_passed_on": state.pii_passed_on,
        "ownership_source": state.tags.get(OWNERSHIP_SOURCE),
        "status": state.check_status,
        "checks": [
            {"name": c.name, "outcome": c.outcome, "severity": c.severity, "column": c.column}
            for c in state.checks
        ],
        "contract_rules": {
            "total": len(state.rules),
            "met": sum(r.success for r in state.rules),
            "failed": sorted({f"{r.contract}: {r.name}" for r in state.rules if not r.success}),
        },
        "last_run": state.last_state
        and {"state": state.last_state, "at": state.last_event_at, "partition": state.last_partition},
        "rows": state.row_count,
        "dagster_url": labels.asset_url(state),
    }


# --- drawing: boxes on a layered grid ---------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """One node as drawn: a bold title, up to three lines of detail, a fill, a link."""

    title: str
    details: tuple[str, ...]
    fill: str
    url: str | None = None
    border: str = "#555555"
    border_width: float = 1.0


@dataclass(frozen=True)
class _Via:
    """An empty slot that an edge skipping layers passes through, in one layer between its ends."""

    source: Hashable
    target: Hashable
    layer: int


@cache
def _points_wide(text: str, points: float, bold: bool) -> float:
    font = FontProperties(family="DejaVu Sans", size=points, weight="bold" if bold else "normal")
    return _MEASURE.get_text_width_height_descent(text, font, ismath=False)[0]


def _middle(text: str, keep: int) -> str:
    return text if keep >= len(text) else text[: (keep + 1) // 2] + "…" + text[len(text) - keep // 2 :]


@cache
def _fit(text: str, points: float, bold: bool = False, inches: float = BOX_W - 2 * PAD) -> str:
    """``text`` shortened in the middle (``fct_traf…_hourly``) until it is no wider than the box, as
    DejaVu Sans draws it (matplotlib's font; a browser's sans-serif is narrower)."""
    keep = bisect.bisect_right(
        range(len(text) + 1), False, key=lambda k: _points_wide(_middle(text, k), points, bold) > inches * 72
    )
    return _middle(text, max(keep - 1, 1))


def _layers(graph: nx.DiGraph) -> dict[Hashable, int]:
    """Column of each node: its topological generation (nodes on a cycle share one column)."""
    condensed = nx.condensation(graph)
    generation = {c: i for i, members in enumerate(nx.topological_generations(condensed)) for c in members}
    return {node: generation[condensed.graph["mapping"][node]] for node in graph}


def _with_vias(graph: nx.DiGraph, layer: dict[Hashable, int]) -> tuple[nx.DiGraph, dict[Hashable, int]]:
    """The graph with each edge that skips layers split at an empty slot in every layer it crosses."""
    layered = nx.DiGraph()
    layered.add_nodes_from(graph)
    layers = dict(layer)
    for source, target in graph.edges:
        chain = [source]
        for between in range(layer[source] + 1, layer[target]):
            via = _Via(source, target, between)
            layers[via] = between
            chain.append(via)
        nx.add_path(layered, [*chain, target])
    return layered, layers


def _by_barycentre(
    nodes: list[Hashable], rank: Mapping[Hashable, int], neighbours: Callable[[Hashable], Iterable[Hashable]]
) -> list[Hashable]:
    """``nodes`` sorted by the mean rank of their neighbours in the layer before (where they stay
    when they have none there)."""
    keys = {}
    for index, node in enumerate(nodes):
        near = [rank[n] for n in neighbours(node) if n in rank]
        keys[node] = float(np.mean(near)) if near else float(index)
    return sorted(nodes, key=keys.__getitem__)


def _ordered(
    layered: nx.DiGraph, layers: Mapping[Hashable, int], names: Mapping[Hashable, str]
) -> dict[int, list[Hashable]]:
    """Nodes of each layer top to bottom: by name, then sweeps left to right and back that move each
    node towards its neighbours in the layer before (barycentre heuristic), undoing most crossings."""
    ordered: dict[int, list[Hashable]] = {}
    for node in sorted(layered, key=lambda n: names.get(n, "")):
        ordered.setdefault(layers[node], []).append(node)
    columns = sorted(ordered)
    for sweep in range(4):
        steps = list(pairwise(columns if sweep % 2 == 0 else columns[::-1]))
        neighbours = layered.predecessors if sweep % 2 == 0 else layered.successors
        for before, current in steps:
            rank = {node: i for i, node in enumerate(ordered[before])}
            ordered[current] = _by_barycentre(ordered[current], rank, neighbours)
    return ordered


def _grid(
    layered: nx.DiGraph, ordered: dict[int, list]
) -> tuple[dict[Hashable, tuple[float, float]], int, int]:
    """Inches from the top left of each node's centre, from ``multipartite_layout``'s unit grid."""
    positions = nx.multipartite_layout(layered, subset_key=ordered, align="vertical")
    xy = np.array(list(positions.values()))
    columns, rows = len(ordered), max(len(nodes) for nodes in ordered.values())
    span = np.ptp(xy, axis=0)
    step = span[0] / (columns - 1) if columns > 1 else (span[1] / (rows - 1) if rows > 1 else 1.0)
    low = xy.min(axis=0)
    inches = {
        node: (float((x - low[0]) / step * COLUMN_PITCH), float((y - low[1]) / step * ROW_PITCH))
        for node, (x, y) in positions.items()
    }
    return inches, columns, rows


def _draw_box(axes: Axes, box: Box, x: float, y: float) -> None:
    left, top = x - BOX_W / 2, y - BOX_H / 2  # the y axis points down
    patch = FancyBboxPatch(
        (left, top),
        BOX_W,
        BOX_H,
        boxstyle="round,pad=0,rounding_size=0.06",
        facecolor=box.fill,
        edgecolor=box.border,
        linewidth=box.border_width,
        url=box.url,
    )
    axes.add_patch(patch)
    axes.text(
        left + PAD,
        top + PAD,
        _fit(box.title, TITLE_PT, bold=True),
        fontsize=TITLE_PT,
        fontweight="bold",
        ha="left",
        va="top",
        url=box.url,
    )
    axes.text(
        left + PAD,
        top + PAD + 0.18,
        "\n".join(_fit(line, DETAIL_PT) for line in box.details[:3]),
        fontsize=DETAIL_PT,
        ha="left",
        va="top",
        linespacing=1.25,
        color="#222222",
        url=box.url,
    )


def _draw_edge(axes: Axes, points: Sequence[Sequence[float]], curved: bool) -> None:
    xs, ys = zip(*points[:-1], strict=True)
    axes.plot(xs, ys, color=EDGE, linewidth=1.0, solid_capstyle="butt")
    axes.annotate(
        "",
        xy=points[-1],
        xytext=points[-2],
        arrowprops={
            "arrowstyle": "-|>",
            "color": EDGE,
            "shrinkA": 0,
            "shrinkB": 0,
            "connectionstyle": "arc3,rad=0.4" if curved else "arc3",
        },
    )


def _spread(routes: dict[tuple[Hashable, Hashable], list[list[float]]]) -> None:
    """Give each edge its own port on a box's side, in the order of where it comes from or goes to,
    so arrows into one box do not end on one point."""
    ends: dict[tuple[Hashable, int], list[tuple[float, list[float]]]] = {}
    for (source, target), points in routes.items():
        ends.setdefault((source, 0), []).append((points[1][1], points[0]))
        ends.setdefault((target, -1), []).append((points[-2][1], points[-1]))
    for port in ends.values():
        gap = min(PORT_GAP, (BOX_H - 2 * PAD) / len(port))
        for i, (_, point) in enumerate(sorted(port, key=lambda end: end[0])):
            point[1] += (i - (len(port) - 1) / 2) * gap


def _focus_layers(view: nx.DiGraph, focus: Hashable) -> dict[Hashable, int]:
    """Columns of a focused view: upstream datasets left of the focus by their longest path to it,
    downstream ones right of it by their longest path from it (a direct input sits beside it)."""
    upstream = view.subgraph(nx.ancestors(view, focus) | {focus}).reverse()
    downstream = view.subgraph(nx.descendants(view, focus) | {focus})
    layer = {node: -i for node, i in _layers(upstream).items()} | _layers(downstream)
    first = min(layer.values())
    return {node: i - first for node, i in layer.items()}


def layered_figure(
    graph: nx.DiGraph, boxes: Mapping[Hashable, Box], layer: Mapping[Hashable, int] | None = None
) -> Figure:
    """``graph`` drawn left to right, one fixed-size box per node (see the module's docstring), in
    the columns ``layer`` gives (default: topological generations)."""
    layer = dict(layer or _layers(graph))
    layered, layers = _with_vias(graph, layer)
    ordered = _ordered(layered, layers, {node: boxes[node].title for node in graph})
    centre, columns, rows = _grid(layered, ordered)
    figure = Figure(figsize=(columns * COLUMN_PITCH, rows * ROW_PITCH))
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_axis_off()
    axes.set_xlim(-COLUMN_PITCH / 2, (columns - 0.5) * COLUMN_PITCH)
    axes.set_ylim((rows - 0.5) * ROW_PITCH, -ROW_PITCH / 2)  # one data unit is one inch, top down
    for node in graph:
        _draw_box(axes, boxes[node], *centre[node])
    routes = {}
    for source, target in graph.edges:
        (sx, sy), (tx, ty) = centre[source], centre[target]
        points = [[sx + BOX_W / 2, sy]]
        for between in range(layer[source] + 1, layer[target]):
            vx, vy = centre[_Via(source, target, between)]
            points += [[vx - BOX_W / 2, vy], [vx + BOX_W / 2, vy]]
        routes[source, target] = [*points, [tx - BOX_W / 2, ty]]
    _spread(routes)
    for (source, target), points in routes.items():
        _draw_edge(axes, points, curved=layer[source] >= layer[target])
    return figure


def svg(figure: Figure) -> str:
    """The figure as ``<svg>`` markup with real ``<text>`` (searchable; matplotlib escapes it) and
    ``<a>`` links, to insert into a page as is."""
    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "lineage"}):
        figure.savefig(buffer, format="svg")
    return re.sub(r"^.*?(?=<svg)", "", buffer.getvalue(), flags=re.DOTALL)


# --- the focused page of one dataset ---------------------------------------------------------------


def dataset_box(state: DatasetState, labels: Labels, focus: bool = False) -> Box:
    parts = label(state).rsplit("/", 1) if state.job else [state.id.namespace, state.id.name]
    where = parts[0] + "/" if len(parts) == 2 else ""
    word = STATUS[state.check_status][0]
    counts = f" {sum(c.success for c in state.checks)}/{len(state.checks)}" if state.checks else ""
    flags = [f"{word}{counts}"]
    if state.personal:
        flags.append("personal data" + (" passed on" if state.pii_passed_on else ""))
    if state.last_state in TERMINAL_FAILURES:
        flags.append(f"last run {state.last_state}")
    failed_run = state.last_state in TERMINAL_FAILURES
    return Box(
        title=parts[-1],
        details=(
            where,
            f"{labels.steward(state)} · {state.tags.get('classification', 'unclassified')}",
            " · ".join(flags),
        ),
        fill=STATUS[state.check_status][1],
        url=labels.asset_url(state),
        border=FOCUS_EDGE if focus else RUN_FAILED_EDGE if failed_run else "#555555",
        border_width=3.0 if focus else 2.5 if failed_run else 1.0,
    )


def focus_figure(
    lineage: LineageGraph, dataset: DatasetId, labels: Labels, hops: int = DEFAULT_HOPS
) -> Figure:
    """``dataset`` (framed blue) with ``hops`` steps of lineage either side."""
    view = lineage.neighbourhood(dataset, hops)
    boxes = {node: dataset_box(lineage.datasets[node], labels, focus=node == dataset) for node in view}
    return layered_figure(view, boxes, _focus_layers(view, dataset))


def _cell(text: object, href: str | None = None, status: str | None = None, note: str = "") -> dict[str, Any]:
    """A table cell: its text, a link, a verdict that colours it, a note in small type under it."""
    return {"text": "" if text is None else str(text), "href": href, "status": status, "note": note}


def _status_cell(state: DatasetState) -> dict[str, Any]:
    return _cell(check_counts(state), status=state.check_status)


def last_run(state: DatasetState) -> str:
    """``COMPLETE 2026-05-05 01:31 UTC (partition 2026-05-04)``: the newest event of its job."""
    if not state.last_state:
        return "-"
    partition = f" (partition {state.last_partition})" if state.last_partition else ""
    return f"{state.last_state} {(state.last_event_at or '')[:16].replace('T', ' ')} UTC{partition}"


def _dataset_row(
    state: DatasetState, labels: Labels, pages: str | None, steps: str | None = None
) -> list[dict[str, Any]]:
    """One dataset in a table; ``pages``: the folder of the focused pages from here, if written."""
    return [
        *([_cell(steps)] if steps is not None else []),
        _cell(label(state), None if pages is None else pages + page_name(state), note=state.id.uri),
        _status_cell(state),
        _cell(labels.steward(state)),
        _cell(state.tags.get("classification", "-")),
        _cell("yes" if state.personal else "no"),
        _cell(last_run(state)),
        _cell("asset page" if labels.asset_url(state) else "-", labels.asset_url(state)),
    ]


DATASET_HEADERS = ["dataset", "checks", "steward", "classification", "personal data", "last run", "Dagster"]


def _name(lineage: LineageGraph, dataset: DatasetId) -> str:
    return label(lineage.datasets[dataset]) if dataset in lineage.datasets else dataset.uri


def _column_rows(lineage: LineageGraph, state: DatasetState) -> list[list[dict[str, Any]]]:
    """Each output column with the upstream columns it is derived from and how (the facet's subtype)."""
    types = dict(state.columns)
    order = [name for name, _ in state.columns if name in state.column_lineage]
    order += sorted(set(state.column_lineage) - set(order))
    return [
        [
            _cell(column),
            _cell(types.get(column) or "-"),
            _cell("; ".join(f"{_name(lineage, s.dataset)}.{s.field}" for s in state.column_lineage[column])),
            _cell(", ".join(sorted({s.how for s in state.column_lineage[column]}))),
        ]
        for column in order
    ]


def _facts(state: DatasetState, about: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The focused page's table of what a steward looks up first, from :func:`summary`."""
    owners = ", ".join(
        f"{o['role']} {o['name']}" + (f" ({o['owner']})" if o["name"] != o["owner"] else "")
        for o in about["owners"]
    )
    kept = f"; kept {about['retention_days']} days" if about["retention_days"] else ""
    personal = "no"
    if state.personal:
        personal = "yes" + (f": {state.personal_note}" if state.personal_note else "")
    if state.ownership_note:
        owners += f" (owners from the {state.ownership_note})"
    return [
        ("checks", _status_cell(state)),
        ("owners", _cell(owners or "no owner recorded")),
        (
            "classification",
            _cell(
                f"{about['classification'] or 'unclassified'}; department {about['department'] or '-'}{kept}"
            ),
        ),
        ("personal data", _cell(personal)),
        ("last run", _cell(last_run(state))),
        ("rows written", _cell("-" if state.row_count is None else f"{state.row_count:,}")),
        ("location", _cell(about["location"])),
        ("Dagster", _cell(about["dagster_url"] or "not an asset", about["dagster_url"])),
    ]


def render_dataset_html(
    lineage: LineageGraph,
    dataset: DatasetId,
    labels: Labels,
    hops: int = DEFAULT_HOPS,
    overview: str | None = None,
) -> str:
    """The focused page of ``dataset``; ``overview`` is the overview page's address from it, if any
    (then the other datasets' pages are linked too: they lie beside this one)."""
    state, about = lineage.datasets[dataset], summary(lineage, dataset, labels)
    steps = {d: -n for n, d in lineage.upstream(dataset, hops)} | {
        d: n for n, d in lineage.downstream(dataset, hops)
    }
    in_view = sorted(lineage.neighbourhood(dataset, hops), key=lambda d: (steps.get(d, 0), _name(lineage, d)))
    return render_page(
        "lineage_dataset.html.j2",
        title=label(state),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        hops=hops,
        overview=overview,
        status=STATUS,
        facts=_facts(state, about),
        checks=[
            [
                _cell(c.name),
                _cell(STATUS[c.outcome][0], status=c.outcome),
                _cell(c.severity or "error"),
                _cell(c.column or "-"),
            ]
            for c in state.checks
        ],
        failed_rules=about["contract_rules"]["failed"],
        drawing=svg(focus_figure(lineage, dataset, labels, hops)),
        headers=["steps", *DATASET_HEADERS],
        rows=[
            _dataset_row(
                lineage.datasets[d],
                labels,
                "" if overview else None,
                f"{steps.get(d, 0):+d}" if d != dataset else "0",
            )
            for d in in_view
        ],
        column_rows=_column_rows(lineage, state),
    )


# --- the overview: domains, then each domain's datasets ---------------------------------------------


def sections(lineage: LineageGraph) -> dict[DatasetId, str]:
    """The domain each dataset is shown under: its asset key's first part (``iot``), or its first two
    (``marts/traffic``) where a domain holds more than ``SECTION_LIMIT`` datasets."""

    def prefix(dataset: DatasetId, parts: int) -> str:
        job = lineage.datasets[dataset].job
        return "/".join(job.split("/")[:parts]) if job else "not written by an asset"

    first = {d: prefix(d, 1) for d in lineage.datasets}
    sizes = Counter(first.values())
    return {d: prefix(d, 2) if sizes[name] > SECTION_LIMIT else name for d, name in first.items()}


def _worst(states: Iterable[DatasetState]) -> str:
    found = {s.check_status for s in states}
    return next((s for s in ("failed", "warn", "passed") if s in found), "no checks")


def _anchor(section: str) -> str:
    return "domain-" + re.sub(r"[^A-Za-z0-9]+", "-", section).strip("-")


def overview_figure(lineage: LineageGraph, section_of: Mapping[DatasetId, str]) -> Figure:
    """The domains as boxes (datasets, verdicts, personal data), an edge where data flows between two."""
    flows = nx.DiGraph()
    flows.add_nodes_from(set(section_of.values()))
    flows.add_edges_from(
        (section_of[u], section_of[v]) for u, v in lineage.graph.edges if section_of[u] != section_of[v]
    )
    boxes = {}
    for section in flows:
        states = [lineage.datasets[d] for d, s in section_of.items() if s == section]
        verdicts = Counter(s.check_status for s in states)
        tally = ", ".join(f"{verdicts[k]} {STATUS[k][0]}" for k in STATUS if verdicts[k])
        personal = sum(s.personal for s in states)
        boxes[section] = Box(
            title=section,
            details=(
                f"{len(states)} dataset{'s' if len(states) > 1 else ''}",
                tally,
                f"{personal} with personal data" if personal else "no personal data",
            ),
            fill=STATUS[_worst(states)][1],
            url=f"#{_anchor(section)}",
        )
    return layered_figure(flows, boxes)


def render_overview_html(lineage: LineageGraph, labels: Labels, pages: str | None = None) -> str:
    """The overview; ``pages`` is the folder of the focused pages relative to it (``lineage/``), if
    they were written, to link each dataset to its own."""
    section_of = sections(lineage)
    attention = sorted(
        (
            s
            for s in lineage.datasets.values()
            if s.check_status in ("failed", "warn") or s.last_state in TERMINAL_FAILURES
        ),
        key=lambda s: (s.check_status != "failed", label(s)),
    )
    grouped = [
        {
            "name": section,
            "anchor": _anchor(section),
            "rows": [
                _dataset_row(s, labels, pages)
                for s in sorted(
                    (lineage.datasets[d] for d, x in section_of.items() if x == section), key=label
                )
            ],
        }
        for section in sorted(set(section_of.values()))
    ]
    return render_page(
        "lineage_report.html.j2",
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        datasets=len(lineage.datasets),
        dependencies=lineage.graph.number_of_edges(),
        drawing=svg(overview_figure(lineage, section_of)) if lineage.datasets else None,
        status=STATUS,
        attention=[_dataset_row(s, labels, pages) for s in attention],
        headers=DATASET_HEADERS,
        sections=grouped,
    )

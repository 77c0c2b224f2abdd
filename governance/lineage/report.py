"""The lineage report: one self-contained HTML page, the graph drawn as inline SVG, then a table.

Drawn with networkx (layout: datasets in columns by how many steps they are from a source) and
matplotlib's SVG backend (no Graphviz binary needed), so the page opens anywhere, offline.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime

import networkx as nx
import numpy as np
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.text import Text

from governance.lineage.graph import TERMINAL_FAILURES, DatasetState, LineageGraph
from governance.lineage.naming import DatasetId
from governance.pages import render_page

STATUS_COLOURS = {"passed": "#8fd19e", "failed": "#f28b82", "no checks": "#d9d9d9"}  # check status
RUN_FAILED_EDGE = "#c5221f"


def label(state: DatasetState) -> str:
    return state.job or state.id.uri


def _layers(graph: nx.DiGraph) -> dict[DatasetId, int]:
    """Column of each dataset: its longest distance from a dataset nothing feeds."""
    if not nx.is_directed_acyclic_graph(graph):
        return dict.fromkeys(graph.nodes, 0)
    return {node: i for i, generation in enumerate(nx.topological_generations(graph)) for node in generation}


def _between_boxes(
    source: Sequence[float], target: Sequence[float], source_half: np.ndarray, target_half: np.ndarray
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The segment between two box centres, cut where it leaves the one box and enters the other."""
    a, b = np.asarray(source, dtype=float), np.asarray(target, dtype=float)
    d = b - a

    def exit_fraction(half: np.ndarray) -> float:
        with np.errstate(divide="ignore"):
            return float(np.min(np.where(d != 0, half / np.abs(d), np.inf)))

    start, end = a + d * exit_fraction(source_half), b - d * exit_fraction(target_half)
    return (float(start[0]), float(start[1])), (float(end[0]), float(end[1]))


def _box(axes: Axes, state: DatasetState, x: float, y: float) -> Text:
    failed_run = state.last_state in TERMINAL_FAILURES
    return axes.text(
        x,
        y,
        label(state),
        ha="center",
        va="center",
        fontsize=8,
        bbox={
            "boxstyle": "round,pad=0.4",
            "facecolor": STATUS_COLOURS[state.check_status],
            "edgecolor": RUN_FAILED_EDGE if failed_run else "#555555",
            "linewidth": 2.5 if failed_run else 1.0,
        },
    )


def draw_svg(lineage: LineageGraph) -> str:
    """The graph as ``<svg>``: boxes coloured by check status, a red border where the last run failed.

    Markup, inserted into the page as is: matplotlib escapes every label it writes.
    """
    graph = lineage.graph.copy()
    if graph.number_of_nodes() == 0:
        return "<p>No lineage events yet: materialise some assets first.</p>"
    layers = _layers(graph)
    nx.set_node_attributes(graph, layers, "layer")
    positions = nx.multipartite_layout(graph, subset_key="layer", align="vertical", scale=1.0)
    rows = max(list(layers.values()).count(layer) for layer in set(layers.values()))
    figure = Figure(figsize=(max(8.0, 3.6 * (max(layers.values()) + 1)), max(3.0, 1.1 * rows)))
    axes = figure.add_subplot()
    axes.set_axis_off()
    xs, ys = zip(*positions.values(), strict=True)
    axes.set_xlim(min(xs) - 0.3, max(xs) + 0.3)  # text does not autoscale the axes
    axes.set_ylim(min(ys) - 0.3, max(ys) + 0.3)
    boxes = {node: _box(axes, lineage.datasets[node], x, y) for node, (x, y) in positions.items()}
    figure.draw_without_rendering()  # sizes the boxes, so arrows can end at their borders
    to_data = axes.transData.inverted()
    half = {
        n: np.ptp(to_data.transform(b.get_bbox_patch().get_window_extent()), axis=0) / 2
        for n, b in boxes.items()
    }
    for source, target in graph.edges:
        start, end = _between_boxes(positions[source], positions[target], half[source], half[target])
        axes.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": "#777777"})
    axes.legend(
        handles=[Patch(color=colour, label=status) for status, colour in STATUS_COLOURS.items()]
        + [Patch(facecolor="white", edgecolor=RUN_FAILED_EDGE, label="last run failed")],
        loc="lower center",
        bbox_to_anchor=(0.5, -0.12),
        ncol=4,
        frameon=False,
        fontsize=8,
    )
    buffer = io.StringIO()
    with rc_context({"svg.fonttype": "none"}):  # real <text>: searchable, selectable, small
        figure.savefig(buffer, format="svg", bbox_inches="tight")
    return re.sub(r"^.*?(?=<svg)", "", buffer.getvalue(), flags=re.DOTALL)


def _cells(state: DatasetState, lineage: LineageGraph) -> list[str]:
    return [
        label(state),
        state.id.uri,
        ", ".join(f"{role} {owner.removeprefix('user:')}" for role, owner in state.owners) or "-",
        state.tags.get("classification", "-") + (" (PII columns)" if state.pii_columns else ""),
        state.tags.get("department", "-"),
        f"{state.check_status}"
        + (f": {', '.join(c.name for c in state.failed_checks)}" if state.failed_checks else ""),
        f"{state.last_state or '-'} {state.last_event_at or ''}"
        + (f" (partition {state.last_partition})" if state.last_partition else ""),
        "" if state.row_count is None else f"{state.row_count:,}",
        ", ".join(label(lineage.datasets[d]) for d in lineage.graph.predecessors(state.id)) or "-",
        ", ".join(label(lineage.datasets[d]) for d in lineage.graph.successors(state.id)) or "-",
    ]


def render_html(lineage: LineageGraph) -> str:
    headers = [
        "dataset",
        "location",
        "owners",
        "classification",
        "department",
        "checks",
        "last run",
        "rows",
        "reads",
        "read by",
    ]
    states = [lineage.datasets[d] for d in sorted(lineage.datasets)]
    return render_page(
        "lineage_report.html.j2",
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        datasets=len(lineage.datasets),
        dependencies=lineage.graph.number_of_edges(),
        drawing=draw_svg(lineage),
        headers=headers,
        rows=[_cells(state, lineage) for state in states],
        classes=[state.check_status.replace(" ", "-") for state in states],
    )

"""What every department's charts share: the chart record the page shows, the PNG encoding, grids
with gaps for what is missing, and heatmaps that draw a missing cell as missing (never as zero).

Figures are built with ``matplotlib.figure.Figure`` rather than pyplot: no global state, so reports
may render side by side in one process.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, Colormap, ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Patch, Rectangle

MISSING = "missing"
MISSING_COLOUR = "#d9d9d9"
MISSING_HATCH = "//"
HOURS = list(range(24))
HISTORY_DAYS = 14  # days a chart by day shows, the report's day the last of them

Table = tuple[Sequence[str], list[list[object]]]


@dataclass(frozen=True)
class Chart:
    """One chart of a report, from ``marts``, of the data of ``dates``; ``png`` is None when there is
    nothing to draw (``caption`` then says why)."""

    title: str
    marts: tuple[str, ...]
    dates: str
    caption: str
    png: str | None = None
    alt: str = ""
    legend: tuple[tuple[str, str], ...] = ()  # (colour, label), shown under the image
    table: Table | None = None
    table_title: str = ""


@dataclass(frozen=True)
class Category:
    """A band of a categorical column: the value the mart writes, how a reader calls it, its colour."""

    value: str
    label: str
    colour: str


@dataclass
class Grid:
    """Values by row and column, NaN where the frame has no value (no row, or a null)."""

    rows: list[Hashable]
    columns: list[Hashable]
    values: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.values = np.full((len(self.rows), len(self.columns)), np.nan)

    @classmethod
    def of(cls, frame: pl.DataFrame, row: str, column: str, value: str, rows: list, columns: list) -> Grid:
        """``value`` of ``frame`` at (``row``, ``column``); of several rows in one cell, the largest
        (a local hour repeated when the clocks go back)."""
        grid = cls(rows, columns)
        at_row = {key: i for i, key in enumerate(rows)}
        at_column = {key: j for j, key in enumerate(columns)}
        for r, c, v in frame.select(row, column, value).iter_rows():
            if v is None or r not in at_row or c not in at_column:
                continue
            i, j = at_row[r], at_column[c]
            grid.values[i, j] = float(v) if np.isnan(grid.values[i, j]) else max(grid.values[i, j], float(v))
        return grid


def on_day(frame: pl.DataFrame, day: date) -> pl.DataFrame:
    return frame.filter(pl.col("local_date") == day)


def png(figure: Figure) -> str:
    """The figure as base64 PNG, for an ``<img src="data:...">``: the page stays one file."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return base64.b64encode(buffer.getvalue()).decode()


def figure(width: float, height: float, **subplots: object) -> tuple[Figure, np.ndarray]:
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(squeeze=False, **subplots)  # type: ignore[arg-type]
    return fig, axes


def category_grid(
    frame: pl.DataFrame,
    row: str,
    column: str,
    category: str,
    categories: Sequence[Category],
    rows: list,
    columns: list,
) -> Grid:
    """The position of each cell's category in ``categories``; NaN where there is none."""
    codes = frame.select(
        row,
        column,
        pl.col(category).replace_strict(
            [c.value for c in categories], range(len(categories)), default=None, return_dtype=pl.Int64
        ),
    )
    return Grid.of(codes, row, column, category, rows, columns)


def category_colours(categories: Sequence[Category]) -> tuple[Colormap, Normalize]:
    """One colour per category, cell value ``i`` (from :func:`category_grid`) in ``categories[i]``'s."""
    bounds = np.arange(len(categories) + 1) - 0.5
    return ListedColormap([c.colour for c in categories]), BoundaryNorm(bounds, len(categories))


def heatmap(
    ax: Axes,
    grid: Grid,
    cmap: Colormap,
    norm: Normalize,
    *,
    labels: np.ndarray | None = None,
    fmt: str = "{:.0f}",
) -> AxesImage:
    """``grid`` as coloured cells, a missing cell grey and hatched; ``labels`` (same shape) written
    in the cells, ``fmt`` applied, nothing where a label is NaN."""
    masked = np.ma.masked_invalid(grid.values)
    image = ax.imshow(
        masked, cmap=cmap.with_extremes(bad=MISSING_COLOUR), norm=norm, aspect="auto", interpolation="nearest"
    )
    for i, j in zip(*np.nonzero(np.isnan(grid.values)), strict=True):
        ax.add_patch(_missing_cell(j, i))
    if labels is not None:
        small = 7 if grid.values.shape[1] > 12 else 8
        for (i, j), value in np.ndenumerate(labels):
            if not np.isnan(value):
                ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=small, color="#111111")
    ax.set_yticks(range(len(grid.rows)), [str(r) for r in grid.rows])
    ax.set_xticks(range(len(grid.columns)), [str(c) for c in grid.columns])
    return image


def _missing_cell(x: float, y: float) -> Rectangle:
    return Rectangle(
        (x - 0.5, y - 0.5),
        1,
        1,
        facecolor=MISSING_COLOUR,
        edgecolor="#aaaaaa",
        hatch=MISSING_HATCH,
        linewidth=0,
    )


def missing_patch(label: str = MISSING) -> Patch:
    return Patch(facecolor=MISSING_COLOUR, edgecolor="#aaaaaa", hatch=MISSING_HATCH, label=label)


def category_patches(categories: Sequence[Category]) -> list[Patch]:
    return [Patch(facecolor=c.colour, label=c.label) for c in categories]


def hour_axis(ax: Axes) -> None:
    ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    ax.set_xlabel("hour of the day (city time)")


def cell(value: object, fmt: str = "{}") -> str:
    """A table cell: ``missing`` for a null, never an empty cell or a zero; yes or no for a flag."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    return fmt.format(value)


def listed(column: str) -> pl.Expr:
    """A list column as one cell's text: its items joined, or ``none`` for an empty list."""
    items = pl.col(column)
    return pl.when(items.list.len() == 0).then(pl.lit("none")).otherwise(items.list.join(", ")).alias(column)


def table(frame: pl.DataFrame, columns: Sequence[tuple[str, str, str]]) -> Table:
    """The rows of ``frame`` as a table of ``(header, column, format)``, each value through :func:`cell`."""
    return (
        [header for header, _, _ in columns],
        [[cell(row[name], fmt) for _, name, fmt in columns] for row in frame.iter_rows(named=True)],
    )


def empty_chart(title: str, marts: tuple[str, ...], dates: str, what: str) -> Chart:
    return Chart(title, marts, dates, f"Nothing to draw: {what}.")

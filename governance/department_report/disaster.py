"""Disaster management: each river gauge's level against its attention, warning and alarm levels, the
flood-alert episodes shaded, and the day's alerts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from governance.department_report.charts import (
    MISSING_COLOUR,
    MISSING_HATCH,
    Chart,
    empty_chart,
    figure,
    missing_patch,
    on_day,
    png,
    table,
)

LEVELS, ALERTS = "fct_river_levels_hourly", "fct_flood_alerts"
MARTS = (LEVELS, ALERTS)
GAUGES_SHOWN = 12  # panels; every gauge is in the table
STAGES = {  # the mart's threshold columns and stages, lowest first
    "attention": ("attention_level_m", "#fab005"),
    "warning": ("warning_level_m", "#f76707"),
    "alarm": ("alarm_level_m", "#c92a2a"),
}


def charts(frames: Mapping[str, pl.DataFrame], day: date, zone: ZoneInfo) -> list[Chart]:
    levels, alerts = on_day(frames[LEVELS], day), on_day(frames[ALERTS], day)
    title = "River level against the warning levels, flood alerts shaded"
    if levels.is_empty():
        empty = empty_chart(title, MARTS, day.isoformat(), f"{LEVELS} has no rows for {day}")
        return [empty, _alerts_table(alerts, day, zone)]
    start = datetime.combine(day, time(), zone)
    hours = round((datetime.combine(day + timedelta(days=1), time(), zone) - start).total_seconds() / 3600)
    levels = levels.with_columns(x=_hours_since(start, "hour_start"))
    alerts = alerts.with_columns(
        x0=_hours_since(start, "start_at"),
        x1=_hours_since(start, "start_at") + pl.col("duration_minutes") / 60,
    )
    gauges = (
        levels.group_by("sensor_id", "river_name", "district_id")
        .agg(
            pl.col("margin_to_warning_m").max().alias("closest"),
            pl.col("max_level_m").max().alias("peak"),
            pl.col("flood_stage").sort_by("max_level_m", nulls_last=True).last().alias("stage"),
            pl.col("max_level_m").is_null().sum().alias("null_hours"),
            pl.len().alias("rows"),
            *(pl.col(column).first() for column, _ in STAGES.values()),
        )
        .sort("closest", "sensor_id", descending=[True, False], nulls_last=True)
    )
    shown = gauges.head(GAUGES_SHOWN)
    columns = min(3, shown.height)
    rows = math.ceil(shown.height / columns)
    fig, axes = figure(4.2 * columns, 2.6 * rows + 0.8, nrows=rows, ncols=columns)
    for ax, gauge in zip(axes.flat, shown.iter_rows(named=True), strict=False):
        _panel(
            ax,
            gauge,
            levels.filter(pl.col("sensor_id") == gauge["sensor_id"]),
            alerts.filter(pl.col("sensor_id") == gauge["sensor_id"]),
            hours,
        )
    for ax in list(axes.flat)[shown.height :]:
        ax.set_visible(False)
    fig.legend(handles=_legend(), loc="outside lower center", ncols=4, fontsize="small")
    every_gauge = table(
        gauges.with_columns(missing_hours=hours - pl.col("rows") + pl.col("null_hours")),
        [
            ("gauge", "sensor_id", "{}"),
            ("river", "river_name", "{}"),
            ("district", "district_id", "{}"),
            ("highest level (m)", "peak", "{:.2f}"),
            ("attention (m)", "attention_level_m", "{:.2f}"),
            ("warning (m)", "warning_level_m", "{:.2f}"),
            ("alarm (m)", "alarm_level_m", "{:.2f}"),
            ("highest stage", "stage", "{}"),
            ("hours missing", "missing_hours", "{}"),
        ],
    )
    return [
        Chart(
            title,
            MARTS,
            day.isoformat(),
            f"The {shown.height} of {gauges.height} gauges that came closest to (or went furthest above) "
            "their warning level, highest hourly level as steps; dashed lines are the gauge's attention, "
            "warning and alarm levels; a shaded band is a flood-alert episode in the colour of the highest "
            "stage it reached; grey hatched hours have no reading.",
            png=png(fig),
            alt=f"river level of each gauge by hour on {day} against its thresholds, alert periods shaded",
            table=every_gauge,
            table_title=f"Every gauge on {day}",
        ),
        _alerts_table(alerts, day, zone),
    ]


def _hours_since(start: datetime, column: str) -> pl.Expr:
    """Hours from ``start`` (local midnight) to the instant in ``column``: a 23- or 25-hour day keeps
    its length on the chart."""
    return (
        pl.col(column).dt.convert_time_zone("UTC") - pl.lit(start.astimezone(UTC))
    ).dt.total_minutes() / 60


def _panel(
    ax: Axes, gauge: Mapping[str, object], levels: pl.DataFrame, alerts: pl.DataFrame, hours: int
) -> None:
    values = np.full(hours, np.nan)
    for x, level in levels.select("x", "max_level_m").iter_rows():
        if level is not None and 0 <= int(x) < hours:
            values[int(x)] = level
    for hour in np.flatnonzero(np.isnan(values)):
        ax.axvspan(
            hour, hour + 1, facecolor=MISSING_COLOUR, hatch=MISSING_HATCH, edgecolor="#aaaaaa", linewidth=0
        )
    for x0, x1, stage in alerts.select("x0", "x1", "alert_level").iter_rows():
        ax.axvspan(max(x0, 0), min(x1, hours), color=STAGES[stage][1], alpha=0.25, linewidth=0)
    ax.step(np.arange(hours + 1), np.append(values, values[-1]), where="post", color="#1c3f94", linewidth=1.5)
    for column, colour in STAGES.values():
        if gauge[column] is not None:
            ax.axhline(gauge[column], color=colour, linestyle="--", linewidth=1)
    ax.set_xlim(0, hours)
    ax.set_xticks(range(0, hours + 1, 6))
    ax.set_title(f"{gauge['sensor_id']} {gauge['river_name']} ({gauge['district_id']})", fontsize="small")
    ax.set_ylabel("level (m)", fontsize="small")
    ax.tick_params(labelsize="small")


def _legend() -> list[object]:
    return [
        Line2D([], [], color="#1c3f94", label="highest level in the hour"),
        *(
            Line2D([], [], color=colour, linestyle="--", label=f"{stage} level")
            for stage, (_, colour) in STAGES.items()
        ),
        *(Patch(color=colour, alpha=0.25, label=f"alert: {stage}") for stage, (_, colour) in STAGES.items()),
        missing_patch("missing (no reading)"),
    ]


def _alerts_table(alerts: pl.DataFrame, day: date, zone: ZoneInfo) -> Chart:
    local = {
        name: _local_time(name, day, zone)
        for name in ("start_at", "warning_at", "alarm_at", "peak_at", "end_at")
    }
    reached = ("warning_at", "alarm_at")  # null there means not reached, not missing
    episodes = alerts.sort("start_at").with_columns(
        **{name: expr.fill_null("not reached") if name in reached else expr for name, expr in local.items()}
    )
    return Chart(
        "Flood alerts",
        (ALERTS,),
        day.isoformat(),
        f"{episodes.height} flood-alert episode(s) on {day}, times in city time (with the date when on "
        "another day: an episode across midnight keeps its alert id and is continued the next day).",
        table=table(
            episodes,
            [
                ("alert", "alert_id", "{}"),
                ("highest stage", "alert_level", "{}"),
                ("river", "river_name", "{}"),
                ("district", "district_id", "{}"),
                ("from", "start_at", "{}"),
                ("warning at", "warning_at", "{}"),
                ("alarm at", "alarm_at", "{}"),
                ("peak at", "peak_at", "{}"),
                ("peak level (m)", "peak_level_m", "{:.2f}"),
                ("until", "end_at", "{}"),
                ("continued from the day before", "is_continued_from_day_before", "{}"),
                ("still open at day end", "is_open_at_day_end", "{}"),
            ],
        ),
    )


def _local_time(column: str, day: date, zone: ZoneInfo) -> pl.Expr:
    """HH:MM in city time, prefixed by the date when the instant falls on another day than ``day``."""
    local = pl.col(column).dt.convert_time_zone(zone.key)
    return (
        pl.when(local.dt.date() == day)
        .then(local.dt.strftime("%H:%M"))
        .otherwise(local.dt.strftime("%Y-%m-%d %H:%M"))
    )

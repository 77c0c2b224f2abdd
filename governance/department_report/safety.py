"""Public safety: the night's patrol priorities by district, and pedestrian activity on camera."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.patches import Patch

from governance.department_report.charts import (
    HOURS,
    Chart,
    Grid,
    cell,
    empty_chart,
    figure,
    heatmap,
    hour_axis,
    listed,
    missing_patch,
    on_day,
    png,
    table,
)

PRIORITY, PEDESTRIANS = "fct_patrol_priority", "fct_pedestrian_activity_hourly"
MARTS = (PRIORITY, PEDESTRIANS)
POORLY_COVERED, COVERED = "#c92a2a", "#1c7ed6"


def charts(frames: Mapping[str, pl.DataFrame], day: date, zone: ZoneInfo) -> list[Chart]:
    return [
        _priority(on_day(frames[PRIORITY], day), day),
        _pedestrians(on_day(frames[PEDESTRIANS], day), day),
    ]


def _priority(priority: pl.DataFrame, day: date) -> Chart:
    title = "Patrol priority by district"
    if priority.is_empty():
        return empty_chart(title, (PRIORITY,), day.isoformat(), f"{PRIORITY} has no rows for {day}")
    ranked = priority.sort("priority_rank", nulls_last=True)
    fig, axes = figure(9, 0.4 * ranked.height + 1.6)
    ax = axes[0, 0]
    names = [f"#{cell(r)} {d}" for r, d in ranked.select("priority_rank", "district_id").rows()]
    scores = ranked["priority_score"].to_list()
    colours = [POORLY_COVERED if poor else COVERED for poor in ranked["is_poorly_covered"].to_list()]
    ax.barh(names, [np.nan if s is None else s for s in scores], color=colours)
    for y, score in enumerate(scores):
        ax.annotate(
            "missing" if score is None else f"{score:.1f}",
            (0 if score is None else score, y),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize="small",
        )
    ax.invert_yaxis()  # rank 1 on top
    ax.set_xlim(0, 105)
    ax.set_xlabel("priority score (0 lowest, 100 highest)")
    ax.legend(
        handles=[
            Patch(color=POORLY_COVERED, label="no camera, or fewer per km² than the median"),
            Patch(color=COVERED, label="camera coverage at or above the median"),
        ],
        loc="lower right",
        fontsize="small",
    )
    evidence = table(
        ranked.with_columns(listed("missing_inputs")),
        [
            ("rank", "priority_rank", "{}"),
            ("district", "district_id", "{}"),
            ("score", "priority_score", "{:.1f}"),
            ("missing inputs (left out of the score)", "missing_inputs", "{}"),
            ("night vehicles per segment", "night_vehicles_per_segment", "{:,.0f}"),
            ("night pedestrians per camera-hour", "night_pedestrians_per_camera_hour", "{:,.1f}"),
            ("night noise over limit (per monitor)", "night_noise_exceedance_share", "{:.0%}"),
            ("cameras", "cameras", "{}"),
            ("cameras/km²", "cameras_per_km2", "{:.2f}"),
            ("poorly covered", "is_poorly_covered", "{}"),
        ],
    )
    return Chart(
        title,
        (PRIORITY,),
        day.isoformat(),
        "Districts in the order to patrol the night that ends on the morning of the day (22:00 the day "
        "before to 06:00; rank 1 first), by the mart's weighted score of night traffic per measured segment, "
        "pedestrians per camera-hour, noise over the limit per monitor, camera coverage and population "
        "density; an input a district has no data for is left out of its score (weights renormalised) and "
        "listed, never counted as quiet. Red where camera coverage is poor.",
        png=png(fig),
        alt=f"patrol priority score of every district for the night ending on {day}",
        table=evidence,
        table_title="The evidence behind each rank",
    )


def _pedestrians(activity: pl.DataFrame, day: date) -> Chart:
    title = "Pedestrian activity by district and hour"
    if activity.is_empty():
        return empty_chart(title, (PEDESTRIANS,), day.isoformat(), f"no camera footage on {day}")
    districts = sorted(activity["district_id"].unique().to_list())
    grid = Grid.of(activity, "district_id", "local_hour", "pedestrians_per_hour", districts, HOURS)
    fig, axes = figure(11, 0.42 * len(districts) + 1.8)
    ax = axes[0, 0]
    top = float(np.nanmax(grid.values)) if np.isfinite(grid.values).any() else 1.0
    image = heatmap(ax, grid, colormaps["Purples"], Normalize(0, max(top, 1.0)), labels=grid.values)
    for edge in (5.5, 21.5):  # night is 22:00 to 05:59
        ax.axvline(edge, color="#333333", linewidth=1.5)
    hour_axis(ax)
    fig.colorbar(image, ax=ax, label="pedestrians per hour of footage", shrink=0.8)
    ax.legend(
        handles=[missing_patch("missing (no footage)")],
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        fontsize="small",
        frameon=False,
    )
    return Chart(
        title,
        (PEDESTRIANS,),
        day.isoformat(),
        "Pedestrians crossing the cameras' counting lines, per hour of footage, summed over each district's "
        "cameras; the vertical lines bound the night (22:00 to 05:59). Grey hatched: no footage that hour.",
        png=png(fig),
        alt=f"pedestrians per hour by district and hour on {day}",
    )

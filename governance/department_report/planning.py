"""Policy planning: where monitoring coverage falls short of the pressure on a district, and how much
of the day each kind of monitoring asset was up."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from matplotlib import colormaps
from matplotlib.colors import Normalize

from governance.department_report.charts import (
    Chart,
    Grid,
    cell,
    empty_chart,
    figure,
    heatmap,
    listed,
    missing_patch,
    on_day,
    png,
    table,
)

GAPS, UPTIME = "fct_coverage_gaps", "fct_asset_uptime"
MARTS = (GAPS, UPTIME)
SHORT, AHEAD = "#c92a2a", "#1c7ed6"  # coverage short of pressure, coverage ahead of it


def charts(frames: Mapping[str, pl.DataFrame], day: date, zone: ZoneInfo) -> list[Chart]:
    return [_gaps(on_day(frames[GAPS], day), day), _uptime(on_day(frames[UPTIME], day), day)]


def _gaps(gaps: pl.DataFrame, day: date) -> Chart:
    title = "Coverage gaps by district"
    if gaps.is_empty():
        return empty_chart(title, (GAPS,), day.isoformat(), f"{GAPS} has no rows for {day}")
    ranked = gaps.sort("gap_rank", nulls_last=True)
    fig, axes = figure(12, 0.35 * ranked.height + 2.5, ncols=2)
    bars, scatter = axes[0]
    names = [f"#{cell(r)} {d}" for r, d in ranked.select("gap_rank", "district_id").rows()]
    score = [np.nan if s is None else s for s in ranked["gap_score"].to_list()]
    bars.barh(names, score, color=[SHORT if s > 0 else AHEAD for s in np.nan_to_num(score)])
    bars.axvline(0, color="#333333", linewidth=1)
    bars.invert_yaxis()  # the largest gap on top
    bars.set_xlim(-1, 1)
    bars.set_xlabel("gap score: pressure minus coverage (-1 to 1)")
    for y, s in enumerate(score):
        if np.isnan(s):
            bars.annotate(
                "missing", (0, y), xytext=(3, 0), textcoords="offset points", va="center", fontsize="small"
            )
    both = ranked.drop_nulls(["coverage_score", "pressure_score"])
    scatter.scatter(
        both["coverage_score"],
        both["pressure_score"],
        c=[SHORT if g > 0 else AHEAD for g in both["gap_score"].fill_null(0)],
    )
    for district, x, y in both.select("district_id", "coverage_score", "pressure_score").rows():
        scatter.annotate(district, (x, y), xytext=(4, 2), textcoords="offset points", fontsize="small")
    scatter.plot([0, 1], [0, 1], color="#888888", linestyle="--", linewidth=1)
    scatter.set(
        xlim=(-0.05, 1.05), ylim=(-0.05, 1.05), xlabel="coverage score (0-1)", ylabel="pressure score (0-1)"
    )
    scatter.set_title("above the diagonal: more pressure than coverage", fontsize="small")
    evidence = table(
        ranked.with_columns(listed("missing_inputs")),
        [
            ("rank", "gap_rank", "{}"),
            ("district", "district_id", "{}"),
            ("gap", "gap_score", "{:+.2f}"),
            ("pressure", "pressure_score", "{:.2f}"),
            ("coverage", "coverage_score", "{:.2f}"),
            ("missing measures (left out)", "missing_inputs", "{}"),
            ("no camera", "lacks_camera_coverage", "{}"),
            ("lacks a sensor kind", "lacks_sensor_kind", "{}"),
            ("cameras", "cameras", "{}"),
            ("IoT sensors", "iot_sensors", "{}"),
            ("monitored segments", "monitored_segment_share", "{:.0%}"),
            ("mean sensor uptime", "mean_sensor_uptime_pct", "{:.1f}%"),
        ],
    )
    return Chart(
        title,
        (GAPS,),
        day.isoformat(),
        "Districts by how far the pressure on them (incidents and traffic, per instrument) outruns their "
        "monitoring coverage (cameras, sensors, monitored roads), largest gap first; red where pressure "
        "exceeds coverage. A measure a district has no instrument or data for is left out of its score.",
        png=png(fig),
        alt=f"coverage gap score of every district on {day}, and pressure against coverage",
        table=evidence,
        table_title="The evidence behind each gap",
    )


def _uptime(uptime: pl.DataFrame, day: date) -> Chart:
    title = "Asset uptime by district and kind"
    if uptime.is_empty():
        return empty_chart(title, (UPTIME,), day.isoformat(), f"{UPTIME} has no rows for {day}")
    by_kind = uptime.group_by("district_id", "asset_kind").agg(pl.col("uptime_pct").mean().alias("uptime"))
    districts = sorted(by_kind["district_id"].unique().to_list())
    kinds = sorted(by_kind["asset_kind"].unique().to_list())
    grid = Grid.of(by_kind, "district_id", "asset_kind", "uptime", districts, kinds)
    fig, axes = figure(1.1 * len(kinds) + 3.5, 0.42 * len(districts) + 1.8)
    ax = axes[0, 0]
    image = heatmap(ax, grid, colormaps["RdYlGn"], Normalize(0, 100), labels=grid.values, fmt="{:.1f}")
    ax.set_xlabel("asset kind")
    fig.colorbar(image, ax=ax, label="mean uptime (%)", shrink=0.8)
    ax.legend(
        handles=[missing_patch("no asset of that kind")],
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        fontsize="small",
        frameon=False,
    )
    down = uptime.filter(pl.col("is_down")).sort("district_id", "asset_id")
    return Chart(
        title,
        (UPTIME,),
        day.isoformat(),
        "Mean share of the day's intervals with data (288 five-minute readings for a sensor, 24 clip hours "
        "for a camera) over the district's assets of each kind; grey hatched where the district has none.",
        png=png(fig),
        alt=f"mean uptime of each kind of asset by district on {day}",
        table=table(
            down,
            [
                ("asset", "asset_id", "{}"),
                ("type", "asset_type", "{}"),
                ("kind", "asset_kind", "{}"),
                ("district", "district_id", "{}"),
            ],
        ),
        table_title=f"Assets with no data at all on {day}",
    )

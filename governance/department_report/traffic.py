"""Traffic: volume and level of service by road segment and hour, and each district's day with its peaks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from matplotlib import colormaps
from matplotlib.colors import Normalize

from governance.department_report.charts import (
    HOURS,
    Category,
    Chart,
    Grid,
    category_colours,
    category_grid,
    category_patches,
    empty_chart,
    figure,
    heatmap,
    hour_axis,
    missing_patch,
    on_day,
    png,
    table,
)

HOURLY, PEAKS = "fct_segment_traffic_hourly", "fct_district_peak_hours"
MARTS = (HOURLY, PEAKS)
SEGMENTS_SHOWN = 30  # rows of a segment heatmap that stay readable
# The mart's worst_los: HCM 6th ed. urban street LOS, travel speed as a share of free-flow speed.
LEVELS_OF_SERVICE = (
    Category("A", "A (> 80 % of free flow)", "#2f9e44"),
    Category("B", "B (67-80 %)", "#94d82d"),
    Category("C", "C (50-67 %)", "#fcc419"),
    Category("D", "D (40-50 %)", "#ff922b"),
    Category("E", "E (30-40 %)", "#f03e3e"),
    Category("F", "F (<= 30 %)", "#862e9c"),
)


def charts(frames: Mapping[str, pl.DataFrame], day: date, zone: ZoneInfo) -> list[Chart]:
    hourly, peaks = on_day(frames[HOURLY], day), on_day(frames[PEAKS], day)
    if hourly.is_empty():
        none = f"{HOURLY} has no rows for {day}"
        return [
            empty_chart("Vehicles per hour by road segment", (HOURLY,), day.isoformat(), none),
            empty_chart("Level of service by road segment and hour", (HOURLY,), day.isoformat(), none),
            empty_chart("Vehicles per hour by district, with the peaks", MARTS, day.isoformat(), none),
        ]
    return [_volume(hourly, day), _levels_of_service(hourly, day), _districts(hourly, peaks, day, zone)]


def _labelled(hourly: pl.DataFrame) -> pl.DataFrame:
    """The rows with a ``segment`` label that names the district too."""
    return hourly.with_columns(segment=pl.format("{} ({})", "segment_id", "district_id"))


def _segments(labelled: pl.DataFrame, by: pl.Expr) -> tuple[list[str], int]:
    """The labels of the segments that rank highest ``by`` (one value per segment), and how many
    segments there are."""
    ranked = (
        labelled.group_by("segment")
        .agg(by.alias("rank"))
        .sort("rank", "segment", descending=[True, False], nulls_last=True)
    )
    return ranked.head(SEGMENTS_SHOWN)["segment"].to_list(), ranked.height


def _heights(rows: int) -> float:
    return 0.28 * rows + 1.8


def _volume(hourly: pl.DataFrame, day: date) -> Chart:
    labelled = _labelled(hourly)
    segments, measured = _segments(labelled, pl.col("volume_vph").sum())
    grid = Grid.of(labelled, "segment", "local_hour", "volume_vph", segments, HOURS)
    fig, axes = figure(11, _heights(len(segments)))
    ax = axes[0, 0]
    finite = grid.values[~np.isnan(grid.values)]
    image = heatmap(ax, grid, colormaps["YlGnBu"], Normalize(0, float(finite.max()) if finite.size else 1.0))
    hour_axis(ax)
    fig.colorbar(image, ax=ax, label="vehicles per hour (both directions)", shrink=0.8)
    ax.legend(
        handles=[missing_patch("missing (not measured)")],
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        fontsize="small",
        frameon=False,
    )
    return Chart(
        "Vehicles per hour by road segment",
        (HOURLY,),
        day.isoformat(),
        f"The {len(segments)} busiest of {measured} segments with rows that day, busiest first; volume from "
        "loop detectors, or cameras where a segment has no loop. A grey hatched cell is an hour with no "
        "measurement.",
        png=png(fig),
        alt=f"vehicles per hour on the busiest road segments by hour on {day}",
    )


def _levels_of_service(hourly: pl.DataFrame, day: date) -> Chart:
    labelled = _labelled(hourly)
    segments, measured = _segments(labelled, pl.col("congested_minutes").sum())
    grid = category_grid(labelled, "segment", "local_hour", "worst_los", LEVELS_OF_SERVICE, segments, HOURS)
    fig, axes = figure(11, _heights(len(segments)))
    ax = axes[0, 0]
    cmap, norm = category_colours(LEVELS_OF_SERVICE)
    heatmap(ax, grid, cmap, norm)
    hour_axis(ax)
    ax.legend(
        handles=[*category_patches(LEVELS_OF_SERVICE), missing_patch("missing (no loop speed)")],
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        fontsize="small",
    )
    return Chart(
        "Level of service by road segment and hour",
        (HOURLY,),
        day.isoformat(),
        f"The {len(segments)} most congested of {measured} segments (most minutes at level of service E or "
        "F first), each hour in its worst 5-minute level of service (HCM 6th ed. urban street LOS: loop "
        "speed as a share of the speed limit); grey hatched where the hour has no level (no loop "
        "detector, or no reading).",
        png=png(fig),
        alt=f"worst level of service of the most congested road segments by hour on {day}",
        legend=tuple((c.colour, c.label) for c in LEVELS_OF_SERVICE),
    )


def _districts(hourly: pl.DataFrame, peaks: pl.DataFrame, day: date, zone: ZoneInfo) -> Chart:
    volume = pl.col("volume_vph")
    totals = hourly.group_by("district_id", "local_hour").agg(
        pl.when(volume.count() > 0).then(volume.sum())  # no measured segment: missing, not zero
    )
    districts = sorted(totals["district_id"].unique().to_list())
    grid = Grid.of(totals, "district_id", "local_hour", "volume_vph", districts, HOURS)
    local = peaks.with_columns(
        am_hour=pl.col("am_peak_hour_start").dt.convert_time_zone(zone.key).dt.hour(),
        pm_hour=pl.col("pm_peak_hour_start").dt.convert_time_zone(zone.key).dt.hour(),
        segments=pl.format("{} of {}", "segments_reporting", "road_segments"),
    ).sort("district_id")
    fig, axes = figure(11, 4.5)
    ax = axes[0, 0]
    for i, district in enumerate(districts):
        (line,) = ax.plot(HOURS, grid.values[i], marker=".", label=district)  # NaN: a gap, not a zero
        for peak in ("am", "pm"):
            hours = local.filter(pl.col("district_id") == district)[f"{peak}_hour"].drop_nulls().to_list()
            for hour in hours:
                ax.plot(hour, grid.values[i, hour], marker="^", markersize=9, color=line.get_color())
    hour_axis(ax)
    ax.set_xlim(-0.5, 23.5)
    ax.set_ylabel("vehicles per hour on measured segments")
    ax.legend(
        title="district (▲ its AM and PM peak)", loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small"
    )
    peak_hours = table(
        local,
        [
            ("district", "district_id", "{}"),
            ("vehicles that day", "daily_vehicles", "{:,.0f}"),
            ("AM peak", "am_hour", "{:02d}:00"),
            ("AM vehicles/h", "am_peak_volume_vph", "{:,.0f}"),
            ("AM travel time index", "am_peak_travel_time_index", "{:.2f}"),
            ("PM peak", "pm_hour", "{:02d}:00"),
            ("PM vehicles/h", "pm_peak_volume_vph", "{:,.0f}"),
            ("PM travel time index", "pm_peak_travel_time_index", "{:.2f}"),
            ("highest travel time index", "max_travel_time_index", "{:.2f}"),
            ("worst level of service", "worst_los", "{}"),
            ("congested segment-hours (15+ min at LOS E/F)", "congested_segment_hours", "{}"),
            ("segments reporting", "segments", "{}"),
        ],
    )
    return Chart(
        "Vehicles per hour by district, with the peaks",
        MARTS,
        day.isoformat(),
        f"Hourly volume summed over each district's measured segments ({HOURLY}); triangles mark the morning "
        f"and evening peak hours of {PEAKS}. A break in a line is an hour with no measured segment.",
        png=png(fig),
        alt=f"vehicles per hour by district on {day}, with morning and evening peaks marked",
        table=peak_hours,
        table_title=f"Peak hours by district on {day}",
    )

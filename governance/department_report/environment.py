"""Environment: the CAI by district and hour of the day, and by district and day, in AirKorea's colours."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from governance.department_report.charts import (
    HISTORY_DAYS,
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

HOURLY, DAILY = "fct_air_quality_hourly", "fct_air_quality_daily"
MARTS = (HOURLY, DAILY)

# AirKorea publishes the four CAI categories as blue, green, yellow and red (좋음, 보통, 나쁨, 매우나쁨;
# https://www.airkorea.or.kr/web/khaiInfo?pMENU_NO=129); these are those hues as the report draws them.
CAI_CATEGORIES = (
    Category("good", "good (0-50)", "#1c7ed6"),
    Category("moderate", "moderate (51-100)", "#37b24d"),
    Category("unhealthy", "unhealthy (101-250)", "#fcc419"),
    Category("very_unhealthy", "very unhealthy (251-500)", "#e03131"),
)
# AirKorea's names, in the page's legend only: matplotlib's bundled font has no Hangul.
KOREAN = {"good": "좋음", "moderate": "보통", "unhealthy": "나쁨", "very_unhealthy": "매우나쁨"}


def charts(frames: Mapping[str, pl.DataFrame], day: date, zone: ZoneInfo) -> list[Chart]:
    return [_hourly(on_day(frames[HOURLY], day), day), _daily(frames[DAILY], day)]


def _legend() -> tuple[tuple[str, str], ...]:
    return tuple((c.colour, f"{KOREAN[c.value]} · {c.label}") for c in CAI_CATEGORIES)


def _cai_figure(grid: Grid, values: Grid, title: str, xlabel: str | None) -> str:
    fig, axes = figure(max(6.0, 0.42 * len(grid.columns) + 2.5), 0.42 * len(grid.rows) + 1.6)
    ax = axes[0, 0]
    cmap, norm = category_colours(CAI_CATEGORIES)
    heatmap(ax, grid, cmap, norm, labels=values.values)
    handles = [*category_patches(CAI_CATEGORIES), missing_patch()]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    ax.set_ylabel("district")
    ax.set_title(title, fontsize="medium")
    if xlabel is None:
        hour_axis(ax)
    else:
        ax.set_xlabel(xlabel)
    return png(fig)


def _hourly(hourly: pl.DataFrame, day: date) -> Chart:
    title = "Air quality (CAI) by district and hour"
    if hourly.is_empty():
        return empty_chart(title, (HOURLY,), day.isoformat(), f"{HOURLY} has no rows for {day}")
    districts = sorted(hourly["district_id"].unique().to_list())
    grid = category_grid(
        hourly, "district_id", "local_hour", "cai_category", CAI_CATEGORIES, districts, HOURS
    )
    values = Grid.of(hourly, "district_id", "local_hour", "cai", districts, HOURS)
    return Chart(
        title,
        (HOURLY,),
        day.isoformat(),
        "Each cell is a district's hourly CAI (the number) in its category's colour, AirKorea's real-time "
        "index: particulates on the 24-hour predicted moving average, gases on the hour. A grey hatched "
        "cell is an hour with no CAI: a pollutant not measured, or particulates in fewer than 9 of the "
        "last 12 hours (the mart's cai_null_reason says which).",
        png=_cai_figure(grid, values, f"CAI by hour, {day}", None),
        alt=f"CAI of every district by hour on {day}, coloured by category",
        legend=_legend(),
    )


def _daily(daily: pl.DataFrame, day: date) -> Chart:
    title = "Air quality (CAI) by district and day"
    first = day - timedelta(days=HISTORY_DAYS - 1)
    days = [first + timedelta(days=i) for i in range(HISTORY_DAYS)]
    shown = daily.filter(pl.col("local_date").is_between(first, day))
    if shown.is_empty():
        return empty_chart(title, (DAILY,), f"{first} to {day}", f"{DAILY} has no rows from {first} to {day}")
    present = shown["local_date"]
    days = days[days.index(min(present.to_list())) :]  # from the first day the mart holds
    districts = sorted(shown["district_id"].unique().to_list())
    grid = category_grid(shown, "district_id", "local_date", "cai_category", CAI_CATEGORIES, districts, days)
    values = Grid.of(shown, "district_id", "local_date", "cai", districts, days)
    image = _cai_figure(grid, values, f"Daily CAI, {days[0]} to {day}", "day")
    today = on_day(shown, day).sort("district_id")
    korean = pl.format("{} ({})", "cai_category", "cai_category_ko")
    rows = table(
        today.with_columns(
            category=pl.when(pl.col("cai_category_ko").is_null()).then("cai_category").otherwise(korean)
        ),
        [
            ("district", "district_id", "{}"),
            ("CAI", "cai", "{}"),
            ("category", "category", "{}"),
            ("main pollutant", "main_pollutant", "{}"),
            ("worst hour CAI", "worst_hour_cai", "{}"),
            ("unhealthy hours", "unhealthy_hours", "{}"),
            ("hours reported", "hours_reported", "{}"),
        ],
    )
    return Chart(
        title,
        (DAILY,),
        f"{days[0]} to {day}" if days[0] != day else day.isoformat(),
        "Each cell is a district's daily CAI in its category's colour: a local definition, not AirKorea's "
        "(which publishes hourly values only), on the day's 24-hour PM means and the gases' worst hour. "
        "A grey hatched cell is a day with no daily CAI (particulates in fewer than 18 hours, or no mart "
        "row).",
        png=image,
        alt=f"daily CAI of every district from {days[0]} to {day}, coloured by category",
        legend=_legend(),
        table=rows,
        table_title=f"Local daily CAI on {day}",
    )

"""The department reports rendered from small frames shaped like the marts, without Dagster or S3:
a page per department with its charts, each chart's data date and check status, AirKorea's colours
for the CAI categories, and missing values drawn and written as missing."""

from __future__ import annotations

import base64
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from matplotlib.colors import to_rgb
from PIL import Image

from governance.department_report import REPORT_MARTS, CheckStatus, render_report
from governance.department_report.charts import MISSING_COLOUR
from governance.department_report.environment import CAI_CATEGORIES, KOREAN
from governance.registry.departments import load_departments

DAY = date(2026, 5, 4)
ZONE = ZoneInfo("Asia/Seoul")
DEPARTMENTS = {department.id: department for department in load_departments()}


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    """A local time of ``day`` as the marts hold it: a UTC instant."""
    return datetime.combine(day, time(hour, minute), ZONE).astimezone(UTC)


def traffic() -> dict[str, pl.DataFrame]:
    rows = [
        {
            "segment_id": segment,
            "district_id": district,
            "local_date": DAY,
            "local_hour": hour,
            "volume_vph": None if (segment, hour) == ("RS002", 3) else volume * (1 + hour % 5),
            "congested_minutes": minutes,
            "worst_los": level,
        }
        for segment, district, volume, minutes, level in (
            ("RS001", "D01", 900.0, 40, "F"),
            ("RS002", "D01", 400.0, 0, "A"),
            ("RS003", "D02", 300.0, None, None),
        )
        for hour in range(24)
    ]
    peaks = pl.DataFrame(
        {
            "district_id": ["D01", "D02"],
            "local_date": [DAY, DAY],
            "road_segments": [2, 4],
            "segments_reporting": [2, 1],
            "daily_vehicles": [41_000.0, 9_000.0],
            "am_peak_hour_start": [at(8), at(9)],
            "am_peak_volume_vph": [6_500.0, 1_500.0],
            "am_peak_travel_time_index": [2.4, None],
            "pm_peak_hour_start": [at(18), None],
            "pm_peak_volume_vph": [6_000.0, None],
            "pm_peak_travel_time_index": [1.9, None],
            "max_travel_time_index": [3.1, None],
            "worst_los": ["F", None],
            "congested_segment_hours": [24, 0],
        }
    )
    return {"fct_segment_traffic_hourly": pl.DataFrame(rows), "fct_district_peak_hours": peaks}


# District -> (hour's CAI, category): every category, and one hour with no CAI (a pollutant not measured).
CAI_BY_DISTRICT = {
    "D01": (40, "good"),
    "D02": (80, "moderate"),
    "D03": (180, "unhealthy"),
    "D04": (300, "very_unhealthy"),
}


def environment() -> dict[str, pl.DataFrame]:
    hourly = pl.DataFrame(
        [
            {
                "district_id": district,
                "local_date": DAY,
                "local_hour": hour,
                "cai": None if (district, hour) == ("D02", 5) else cai,
                "cai_category": None if (district, hour) == ("D02", 5) else category,
            }
            for district, (cai, category) in CAI_BY_DISTRICT.items()
            for hour in range(24)
        ]
    )
    daily = pl.DataFrame(
        [
            {
                "district_id": district,
                "local_date": day,
                "cai": cai,
                "cai_category": category,
                "cai_category_ko": KOREAN[category],
                "main_pollutant": "pm25" if district != "D04" else None,
                "worst_hour_cai": cai + 10,
                "unhealthy_hours": 0,
                "hours_reported": 24,
            }
            for district, (cai, category) in CAI_BY_DISTRICT.items()
            for day in (DAY - timedelta(days=2), DAY)  # the day between is missing
        ]
    )
    return {"fct_air_quality_hourly": hourly, "fct_air_quality_daily": daily}


def disaster() -> dict[str, pl.DataFrame]:
    thresholds = {"attention_level_m": 3.0, "warning_level_m": 4.0, "alarm_level_m": 5.0}
    levels = pl.DataFrame(
        [
            {
                "sensor_id": "WL-0001",
                "river_name": "Gulpocheon",
                "district_id": "D01",
                "local_date": DAY,
                "hour_start": at(hour),
                "max_level_m": level,
                "margin_to_warning_m": level - 4.0,
                "flood_stage": "warning" if level >= 4 else "attention" if level >= 3 else "normal",
                **thresholds,
            }
            for hour, level in enumerate([2.0] * 12 + [3.5, 4.6, 4.2, 3.1] + [2.0] * 8)
            if hour != 20  # no reading that hour
        ]
    )
    alerts = pl.DataFrame(
        {
            # the second continues an alert of the day before, across midnight
            "alert_id": ["WL-0001@2026-05-04T12:10", "WL-0002@2026-05-03T23:50"],
            "sensor_id": ["WL-0001", "WL-0002"],
            "river_name": ["Gulpocheon", "Anyangcheon"],
            "district_id": ["D01", "D02"],
            "local_date": [DAY, DAY],
            "alert_level": ["warning", "attention"],
            "start_at": [at(12, 10), at(23, 50, DAY - timedelta(days=1))],
            "warning_at": [at(13, 5), None],
            "alarm_at": pl.Series([None, None], dtype=pl.Datetime("us", "UTC")),
            "peak_at": [at(13, 30), at(0, 5)],
            "end_at": [at(15, 40), at(0, 20)],
            "duration_minutes": [215, 35],
            "peak_level_m": [4.6, 3.4],
            "is_continued_from_day_before": [False, True],
            "is_open_at_day_end": [False, False],
        }
    )
    return {"fct_river_levels_hourly": levels, "fct_flood_alerts": alerts}


def public_safety() -> dict[str, pl.DataFrame]:
    priority = pl.DataFrame(
        {
            "district_id": ["D02", "D01"],
            "local_date": [DAY, DAY],
            "priority_rank": [1, 2],
            "priority_score": [88.0, 30.5],
            "missing_inputs": [[], ["night_pedestrians", "night_noise"]],
            "night_vehicles_per_segment": [1_000.0, 250.0],
            "night_pedestrians_per_camera_hour": [25.0, None],
            "night_noise_exceedance_share": [0.25, None],
            "cameras": [0, 2],
            "cameras_per_km2": [0.0, 0.3],
            "is_poorly_covered": [True, False],
        }
    )
    pedestrians = pl.DataFrame(
        {
            "district_id": ["D01", "D01"],
            "local_date": [DAY, DAY],
            "local_hour": [8, 23],
            "pedestrians_per_hour": [180.0, 120.0],
        }
    )
    return {"fct_patrol_priority": priority, "fct_pedestrian_activity_hourly": pedestrians}


def policy_planning() -> dict[str, pl.DataFrame]:
    gaps = pl.DataFrame(
        {
            "district_id": ["D02", "D01"],
            "local_date": [DAY, DAY],
            "gap_rank": [1, 2],
            "gap_score": [0.4, -0.3],
            "pressure_score": [0.7, 0.3],
            "coverage_score": [0.3, 0.6],
            "missing_inputs": [["flood_alerts"], []],
            "lacks_camera_coverage": [True, False],
            "lacks_sensor_kind": [False, False],
            "cameras": [0, 2],
            "iot_sensors": [4, 9],
            "monitored_segment_share": [0.25, None],
            "mean_sensor_uptime_pct": [97.5, 99.0],
        }
    )
    uptime = pl.DataFrame(
        {
            "asset_id": ["S-1", "S-2", "cam-01"],
            "local_date": [DAY] * 3,
            "asset_type": ["sensor", "sensor", "camera"],
            "asset_kind": ["air_quality", "traffic", "cctv"],
            "district_id": ["D01", "D02", "D01"],
            "uptime_pct": [99.0, 0.0, 8.33],
            "is_down": [False, True, False],
        }
    )
    return {"fct_coverage_gaps": gaps, "fct_asset_uptime": uptime}


FRAMES = {
    "traffic": traffic,
    "environment": environment,
    "disaster_management": disaster,
    "public_safety": public_safety,
    "policy_planning": policy_planning,
}


def render(department: str, frames: dict[str, pl.DataFrame] | None = None, checks: dict | None = None) -> str:
    page = render_report(
        DEPARTMENTS[department],
        DAY,
        FRAMES[department]() if frames is None else frames,
        checks or {},
        zone=ZONE,
        generated_at=datetime(2026, 5, 5, 6, tzinfo=UTC),
        run_id="run-1",
    )
    return page.decode()


def sections(page: str) -> dict[str, str]:
    """Each chart's section of the page, by its title."""
    return {
        re.search(r"<h2>(.*?)</h2>", section).group(1): section
        for section in re.findall(r"<section>(.*?)</section>", page, re.DOTALL)
    }


def colours(section: str) -> set[tuple[int, int, int]]:
    """The colours of the section's chart, as RGB."""
    data = re.search(r'src="data:image/png;base64,([^"]+)"', section).group(1)
    image = Image.open(io.BytesIO(base64.b64decode(data))).convert("RGB")
    return {rgb for _, rgb in image.getcolors(maxcolors=image.width * image.height)}


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(round(255 * c) for c in to_rgb(colour))  # type: ignore[return-value]


def test_every_department_has_a_report_drawn_from_its_marts() -> None:
    assert set(REPORT_MARTS) == set(DEPARTMENTS) == set(FRAMES)
    for department in DEPARTMENTS.values():
        frames = FRAMES[department.id]()
        assert set(frames) == set(REPORT_MARTS[department.id])


@pytest.mark.parametrize("department", sorted(FRAMES))
def test_each_chart_states_its_data_date_and_its_marts_check_status(department: str) -> None:
    checks = {mart: CheckStatus({"not_null": "pass"}) for mart in REPORT_MARTS[department]}
    page = render(department, checks=checks)
    found = sections(page)
    assert len(found) >= 2
    assert sum('src="data:image/png;base64,' in section for section in found.values()) >= 1
    for title, section in found.items():
        assert re.search(rf'class="data-date">[^<]*{DAY}</strong>', section), title
        assert '<span class="status pass">pass</span> (1 of 1 check passed)' in section
        assert "not checked" not in section
    assert f"<h1>{DEPARTMENTS[department].name}: report of {DAY}</h1>" in page
    assert f"s3://{DEPARTMENTS[department].bucket}/" in page


def test_a_mart_whose_checks_did_not_run_is_not_checked_and_a_warning_names_its_check() -> None:
    checks = {"fct_air_quality_hourly": CheckStatus({"cai_in_range": "pass", "stations_reporting": "warn"})}
    found = sections(render("environment", checks=checks))
    hourly = found["Air quality (CAI) by district and hour"]
    daily = found["Air quality (CAI) by district and day"]
    assert '<span class="status warn">warn</span> (1 of 2 checks did not pass: stations_reporting)' in hourly
    assert '<span class="status not-checked">not checked</span>' in daily
    assert "status pass" not in daily
    assert CheckStatus({"a": "pass", "b": "fail", "c": "warn"}).status == "fail"
    assert CheckStatus().status == "not checked"


def test_cai_categories_are_drawn_in_airkorea_colours_and_named_as_airkorea_does() -> None:
    found = sections(render("environment"))
    expected = {c.value: c.colour for c in CAI_CATEGORIES}
    assert expected == {
        "good": "#1c7ed6",
        "moderate": "#37b24d",
        "unhealthy": "#fcc419",
        "very_unhealthy": "#e03131",
    }
    for title in ("Air quality (CAI) by district and hour", "Air quality (CAI) by district and day"):
        drawn = colours(found[title])
        assert {rgb(colour) for colour in expected.values()} <= drawn, title
        assert rgb(MISSING_COLOUR) in drawn, title  # D02's hour without a CAI; the day without rows
        for category in CAI_CATEGORIES:
            assert (
                f'background: {category.colour}"></i>{KOREAN[category.value]} · {category.label}'
                in found[title]
            )


def test_missing_values_are_drawn_and_written_as_missing_never_as_zero() -> None:
    traffic_page = sections(render("traffic"))
    volume = traffic_page["Vehicles per hour by road segment"]
    assert rgb(MISSING_COLOUR) in colours(volume)  # RS002 at 03:00
    assert rgb(MISSING_COLOUR) in colours(traffic_page["Level of service by road segment and hour"])  # RS003
    peaks = traffic_page["Vehicles per hour by district, with the peaks"]
    assert "<td>D02</td><td>9,000</td><td>09:00</td><td>1,500</td><td>missing</td><td>missing</td>" in peaks
    river = sections(render("disaster_management"))
    gauges = river["River level against the warning levels, flood alerts shaded"]
    assert rgb(MISSING_COLOUR) in colours(gauges)
    assert "<td>warning</td><td>1</td></tr>" in gauges  # highest stage, and the hour with no reading
    alerts = river["Flood alerts"]
    assert (
        "<td>12:10</td><td>13:05</td><td>not reached</td><td>13:30</td><td>4.60</td><td>15:40</td>" in alerts
    )
    # an episode from the day before shows its start with the date, and that it continues
    assert "<td>2026-05-03 23:50</td><td>not reached</td><td>not reached</td><td>00:05</td>" in alerts
    assert "<td>00:20</td><td>yes</td><td>no</td>" in alerts
    daily = sections(render("environment"))["Air quality (CAI) by district and day"]
    assert "<td>D04</td><td>300</td><td>very_unhealthy (매우나쁨)</td><td>missing</td>" in daily
    safety = sections(render("public_safety"))["Patrol priority by district"]
    assert (
        "<td>2</td><td>D01</td><td>30.5</td><td>night_pedestrians, night_noise</td><td>250</td>"
        "<td>missing</td><td>missing</td>" in safety
    )
    planning = sections(render("policy_planning"))
    gaps = planning["Coverage gaps by district"]
    assert "<td>missing</td><td>99.0%</td>" in gaps
    assert "<td>0.30</td><td>flood_alerts</td>" in gaps and "<td>0.60</td><td>none</td>" in gaps
    assert (
        "<td>S-2</td><td>sensor</td><td>traffic</td><td>D02</td>"
        in planning["Asset uptime by district and kind"]
    )


def test_a_day_without_rows_says_so_with_its_date_and_status() -> None:
    empty = {mart: frame.clear() for mart, frame in traffic().items()}
    found = sections(render("traffic", frames=empty))
    assert len(found) == 3
    for section in found.values():
        assert f"Nothing to draw: fct_segment_traffic_hourly has no rows for {DAY}." in section
        assert "<img" not in section
        assert f'class="data-date">{DAY}</strong>' in section
        assert "not checked" in section


def test_markup_in_the_data_is_shown_as_text() -> None:
    frames = policy_planning()
    frames["fct_asset_uptime"] = frames["fct_asset_uptime"].with_columns(
        asset_id=pl.lit("<script>x</script>")
    )
    page = render("policy_planning", frames=frames)
    assert "<script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page

"""Marts end to end: simulator -> real S3 -> IoT ingestion and CCTV counts -> real dbt build through
real Dagster runs -> warehouse and department buckets, checked against the simulator's ground truth.

Three days of a 40-sensor city with no injected faults, so bronze holds exactly the simulator's clean
readings and the known answers are exact: the storm's flood alert (the second day's storm placed late,
so its alert runs over midnight into the third), every district's daily CAI from a hand calculation on
the official breakpoints, the congested segment, and the CCTV counts.

Slow (a three-day backfill, rebuilds and dbt docs): `make test-all` and CI run it; the default run
builds and publishes the marts of one day end to end in tests/cityapp/test_demo_cli.py.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import numpy as np
import polars as pl
import pytest
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from cityplatform.layout import (
    DEPARTMENT_REPORT_LATEST_KEY,
    ClipName,
    bronze_clip_key,
    department_report_key,
    mart_export_key,
)
from cityplatform.objectstore import BRONZE, ObjectStore, parquet_bytes, read_parquet
from cityplatform.settings import load_settings
from citysim import City, DayTruth, EventKind, build_city, simulate_day, write_iot_day
from governance.registry.departments import load_departments
from orchestration.defs.marts.assets import MARTS_BY_DEPARTMENT, PROJECT
from orchestration.lib.metadata import plain
from vision_jobs.registry import load_registry
from vision_jobs.sinks import COUNTS_SCHEMA

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("dbt_target")]

SEED = 11
DAYS = (date(2026, 5, 4), date(2026, 5, 5), date(2026, 5, 6))
# The storm of DAYS[1] placed late (citysim's storm_start): it floods its river over midnight into DAYS[2].
LATE_STORM = datetime(2026, 5, 5, 22, 0)
LATE_STORM_DAYS = DAYS[1:]
BEFORE = DAYS[0] - timedelta(days=1)  # never built: a row there must survive every rebuild
PLANTED_VOLUME = 4321.0
CAMERA = load_registry().get("cam-01")
# (local hour, cars eastbound per minute, people northbound per minute) of cam-01's 5-minute clips
CLIPS = ((8, 10, 3), (23, 4, 2))

# The official CAI breakpoints (AirKorea), written out again here as the hand calculation's table.
BANDS = {
    "pm10": ((0, 30), (31, 80), (81, 150), (151, 600)),
    "pm25": ((0, 15), (16, 35), (36, 75), (76, 500)),
    "no2": ((0, 0.030), (0.031, 0.060), (0.061, 0.200), (0.201, 2.000)),
    "o3": ((0, 0.030), (0.031, 0.090), (0.091, 0.150), (0.151, 0.600)),
}
INDEX = ((0, 50), (51, 100), (101, 250), (251, 500))
CATEGORIES = ((50, "good"), (100, "moderate"), (250, "unhealthy"), (500, "very_unhealthy"))


def sub_index(pollutant: str, concentration: float) -> int:
    decimals = 0 if pollutant.startswith("pm") else 3
    c = math.floor(round(concentration * 10**decimals, 6)) / 10**decimals
    for (low, high), (i_low, i_high) in zip(BANDS[pollutant], INDEX, strict=True):
        if c <= high:
            return math.floor((i_high - i_low) / (high - low) * (c - low) + i_low + 0.5)
    return 500


def addon(indices: tuple[int, ...]) -> int:
    """AirKorea's combined-exposure points: +50 for two sub-indices above 100, +75 for three or more."""
    unhealthy = sum(index > 100 for index in indices)
    return 75 if unhealthy >= 3 else 50 if unhealthy == 2 else 0


def category(cai: int) -> str:
    return next(name for top, name in CATEGORIES if cai <= top)


def hand_daily_cai(city: City, day: date) -> dict[str, tuple[int, str]]:
    """District -> (CAI, category) of ``day`` from the simulator's clean readings, in plain Python."""
    readings = simulate_day(city, day, tz=load_settings().zone, seed=SEED).kinds["air_quality"]
    home = {s.sensor_id: s.district_id for s in city.sensors}
    by_district: dict[str, list[int]] = defaultdict(list)
    for column, sensor_id in enumerate(readings.sensor_ids):
        by_district[home[sensor_id]].append(column)
    result = {}
    for district, columns in by_district.items():
        # hourly means over the district's stations, then the day: 24-h mean for PM, worst hour for gases
        hourly = {
            m: readings.values[m][:, columns].reshape(24, 12 * len(columns)).mean(axis=1) for m in BANDS
        }
        indices = (
            sub_index("pm10", float(np.mean(hourly["pm10"]))),
            sub_index("pm25", float(np.mean(hourly["pm25"]))),
            sub_index("no2", float(np.max(hourly["no2"]))),
            sub_index("o3", float(np.max(hourly["o3"]))),
        )
        cai = min(500, max(indices) + addon(indices))
        result[district] = (cai, category(cai))
    return result


def write_cctv_clips(store: ObjectStore, day: date) -> None:
    """cam-01's counts for two 5-minute clips, as vision_jobs writes them (one parquet per clip)."""
    for hour, cars, people in CLIPS:
        start = datetime.combine(day, time(hour), load_settings().zone)
        name = ClipName(CAMERA.camera_id, start)
        rows = [
            {
                "camera_id": CAMERA.camera_id,
                "segment_id": CAMERA.segment_id,
                "district_id": CAMERA.district_id,
                "clip": name.format(),
                "minute_start": start + timedelta(minutes=minute),
                "line_id": line,
                "direction": direction,
                "object_class": object_class,
                "crossings": count,
            }
            for minute in range(5)
            for line, direction, object_class, count in (
                ("road", "eastbound", "car", cars),
                ("crosswalk", "northbound", "person", people),
            )
        ]
        store.put_bytes(
            BRONZE, bronze_clip_key("counts", name), parquet_bytes(pl.DataFrame(rows, schema=COUNTS_SCHEMA))
        )


@pytest.fixture(scope="module")
def dbt_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """dbt writes its artifacts here, not into the shared dbt_project/target (used before loading)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DBT_TARGET_PATH", str(tmp_path_factory.mktemp("dbt_target")))
        yield


@pytest.fixture(scope="module")
def manifest(definitions: dg.Definitions) -> dict[str, Any]:
    """The manifest the code location loaded (parsed with this module's settings)."""
    return json.loads(PROJECT.manifest_path.read_text())


@pytest.fixture(scope="module")
def city() -> City:
    return build_city(seed=SEED, sensors=40)


@pytest.fixture(scope="module")
def truths(store: ObjectStore, city_env: Path, city: City) -> dict[date, DayTruth]:
    tz = load_settings().zone
    truths = {
        day: write_iot_day(
            store,
            city,
            day,
            tz=tz,
            seed=SEED,
            fault_rate=0.0,
            storm_start=LATE_STORM if day in LATE_STORM_DAYS else None,
        )
        for day in DAYS
    }
    write_cctv_clips(store, DAYS[0])
    return truths


def run(
    definitions: dg.Definitions, instance: dg.DagsterInstance, job: str, **kwargs: object
) -> dg.ExecuteInProcessResult:
    result = definitions.resolve_job_def(job).execute_in_process(instance=instance, **kwargs)  # type: ignore[arg-type]
    assert result.success
    return result


def warehouse() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(load_settings().warehouse_path), read_only=True)
    con.execute("set TimeZone = 'UTC'")
    return con


@pytest.fixture(scope="module")
def backfill(
    definitions: dg.Definitions, instance: dg.DagsterInstance, truths: dict[date, DayTruth]
) -> dg.ExecuteInProcessResult:
    """Ingest every day, then build and publish every mart for all of them in one backfill run."""
    run(definitions, instance, "iot_registry")
    for day in DAYS:
        run(definitions, instance, "iot_ingest_day", partition_key=day.isoformat())
    tags = {
        ASSET_PARTITION_RANGE_START_TAG: DAYS[0].isoformat(),
        ASSET_PARTITION_RANGE_END_TAG: DAYS[-1].isoformat(),
    }
    return run(definitions, instance, "marts_build_day", tags=tags)


def hourly_traffic() -> dict[date, tuple[int, float]]:
    with warehouse() as con:
        rows = con.execute(
            "select local_date, count(*), round(sum(volume_vph), 6) from traffic.fct_segment_traffic_hourly "
            "group by 1"
        ).fetchall()
    return {day: (count, total) for day, count, total in rows}


def test_a_backfill_builds_and_publishes_every_mart_and_passes_every_blocking_check(
    backfill: dg.ExecuteInProcessResult, manifest: dict[str, Any]
) -> None:
    built = {e.asset_key.to_user_string() for e in backfill.get_asset_materialization_events()}
    marts = {
        f"marts/{department}/{mart}" for department, names in MARTS_BY_DEPARTMENT.items() for mart in names
    }
    assert marts <= built
    assert {f"marts/published/{department}" for department in MARTS_BY_DEPARTMENT} <= built
    dbt_checks = [e for e in backfill.get_asset_check_evaluations() if e.check_name != "steward_trained"]
    data_tests = sum(n["resource_type"] == "test" for n in manifest["nodes"].values())
    assert len(dbt_checks) == data_tests  # every dbt data test reports as a check, once per run
    failed = [e.check_name for e in dbt_checks if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR]
    assert failed == []


def test_rebuilding_a_day_replaces_exactly_that_day(
    definitions: dg.Definitions, instance: dg.DagsterInstance, backfill: dg.ExecuteInProcessResult
) -> None:
    """Plant a row on the day being rebuilt and one on a day never built (on an unmeasured segment,
    marked by its volume); rebuild the second day of the hourly traffic mart alone."""
    built = hourly_traffic()
    with warehouse() as con:
        segment, district = con.execute(
            "select segment_id, district_id from traffic.dim_road_segments where not is_monitored limit 1"
        ).fetchone()
    with duckdb.connect(str(load_settings().warehouse_path)) as planted:
        for day in (DAYS[1], BEFORE):
            planted.execute(
                "insert into traffic.fct_segment_traffic_hourly (segment_id, district_id, local_date, "
                "hour_start, local_hour, volume_vph, volume_source) values (?, ?, ?, ?, 0, ?, 'loop')",
                [segment, district, day, datetime.combine(day, time(), load_settings().zone), PLANTED_VOLUME],
            )
    hourly = dg.AssetSelection.assets(dg.AssetKey(["marts", "traffic", "fct_segment_traffic_hourly"]))
    selection = [
        k for k in hourly.upstream().resolve(definitions.resolve_asset_graph()) if k.path[0] == "marts"
    ]
    run(
        definitions, instance, "marts_build_day", partition_key=DAYS[1].isoformat(), asset_selection=selection
    )
    with warehouse() as con:
        planted_days = {
            day
            for (day,) in con.execute(
                "select local_date from traffic.fct_segment_traffic_hourly where volume_vph = ?",
                [PLANTED_VOLUME],
            ).fetchall()
        }
    assert planted_days == {BEFORE}  # the rebuilt day was replaced, the day never built left alone
    rebuilt = hourly_traffic()
    del rebuilt[BEFORE]
    assert rebuilt == built  # the same input rebuilds the same rows, once, and the other day is untouched


def test_storm_raises_a_flood_alert_in_its_district_peaking_when_the_river_did(
    backfill: dg.ExecuteInProcessResult, truths: dict[date, DayTruth]
) -> None:
    """The day whose storm starts and ends on it (the late storm's days: the known answers below)."""
    with warehouse() as con:
        alerts = con.execute(
            "select local_date, district_id, sensor_id, start_at, peak_at, end_at, peak_level_m "
            "from disaster_management.fct_flood_alerts where alert_level in ('warning', 'alarm')"
        ).pl()
    for day, truth in truths.items():
        if day in LATE_STORM_DAYS:
            continue
        storm = truth.event(EventKind.STORM)
        found = alerts.filter(pl.col("local_date") == day)
        assert set(found["district_id"]) == {storm.district_id}
        peak = storm.peaks["level_m"]
        worst = found.sort("peak_level_m", descending=True).row(0, named=True)
        assert worst["sensor_id"] == peak.sensor_id
        assert worst["peak_at"] == peak.at  # clean readings: the very 5-minute slot, so the right hour
        assert worst["peak_level_m"] == pytest.approx(peak.value)
        assert storm.start <= worst["start_at"] <= peak.at <= worst["end_at"] <= storm.end


def test_daily_cai_of_every_district_matches_a_hand_calculation(
    backfill: dg.ExecuteInProcessResult, truths: dict[date, DayTruth], city: City
) -> None:
    with warehouse() as con:
        daily = con.execute(
            "select local_date, district_id, cai, cai_category from environment.fct_air_quality_daily"
        ).fetchall()
    got = {(day, district): (cai, name) for day, district, cai, name in daily}
    for day, truth in truths.items():
        expected = hand_daily_cai(city, day)
        assert {d: got[(day, d)] for d in expected} == expected
        episode = truth.event(EventKind.POLLUTION_EPISODE).district_id
        # the episode lifts its district out of the good and moderate bands, on its own day
        assert expected[episode][1] in ("unhealthy", "very_unhealthy")


def test_the_jammed_segment_is_the_first_signal_retiming_candidate(
    backfill: dg.ExecuteInProcessResult, truths: dict[date, DayTruth]
) -> None:
    with warehouse() as con:
        first = dict(
            con.execute(
                "select local_date, segment_id from policy_planning.fct_signal_retiming_candidates "
                "where retiming_rank = 1 and is_candidate"
            ).fetchall()
        )
    assert first == {day: truth.event(EventKind.CONGESTION).segment_id for day, truth in truths.items()}


def test_cctv_counts_reach_traffic_safety_and_uptime_marts(backfill: dg.ExecuteInProcessResult) -> None:
    at = {hour: datetime.combine(DAYS[0], time(hour), load_settings().zone) for hour, _, _ in CLIPS}
    with warehouse() as con:
        cctv = dict(
            con.execute(
                "select hour_start, cctv_volume_vph from traffic.fct_segment_traffic_hourly "
                "where segment_id = ? and cctv_volume_vph is not null",
                [CAMERA.segment_id],
            ).fetchall()
        )
        people = dict(
            con.execute(
                "select hour_start, pedestrians_per_hour from public_safety.fct_pedestrian_activity_hourly "
                "where district_id = ?",
                [CAMERA.district_id],
            ).fetchall()
        )
        night = con.execute(
            "select night_pedestrians_per_hour from public_safety.fct_night_activity_coverage "
            "where district_id = ? and local_date = ?",
            [CAMERA.district_id, DAYS[0]],
        ).fetchone()
        uptime = dict(
            con.execute(
                "select local_date, uptime_pct from policy_planning.fct_asset_uptime where asset_id = ?",
                [CAMERA.camera_id],
            ).fetchall()
        )
    # five minutes of footage scaled to an hour
    assert cctv == {at[hour]: cars * 60.0 for hour, cars, _ in CLIPS}
    assert people == {at[hour]: persons * 60.0 for hour, _, persons in CLIPS}
    assert night == (CLIPS[1][2] * 60.0,)
    assert uptime == {DAYS[0]: round(100 * 2 / 24, 2), **dict.fromkeys(DAYS[1:], 0.0)}


def test_every_mart_is_published_to_its_department_bucket_per_day(
    backfill: dg.ExecuteInProcessResult, store: ObjectStore, manifest: dict[str, Any]
) -> None:
    columns = {
        n["name"]: list(n["columns"]) for n in manifest["nodes"].values() if n["resource_type"] == "model"
    }
    with warehouse() as con:
        for department in load_departments():
            for mart in MARTS_BY_DEPARTMENT[department.id]:
                has_day = "local_date" in columns[mart]
                for day in DAYS:
                    exported = read_parquet(store, department.bucket, mart_export_key(mart, day))
                    where = " where local_date = ?" if has_day else ""
                    (rows,) = con.execute(
                        f"select count(*) from {department.id}.{mart}{where}", [day] if has_day else []
                    ).fetchone()
                    assert exported.columns == columns[mart], mart
                    assert exported.height == rows, (mart, day)


def publication_metadata(result: dg.ExecuteInProcessResult, department: str) -> dict[str, Any]:
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        if materialization.asset_key == dg.AssetKey(["marts", "published", department]):
            return {name: plain(value) for name, value in materialization.metadata.items()}
    raise AssertionError(f"{department} was not published")


def test_every_department_report_is_in_its_bucket_and_its_home_linked_from_the_publication(
    backfill: dg.ExecuteInProcessResult, store: ObjectStore
) -> None:
    """A backfill reports its last day; the checks that ran in it are the status each chart shows."""
    last = DAYS[-1]
    for department in load_departments():
        metadata = publication_metadata(backfill, department.id)
        key = department_report_key(last)
        assert metadata["report"] == f"s3://{department.bucket}/{key}"
        assert metadata["report_latest"] == f"s3://{department.bucket}/{DEPARTMENT_REPORT_LATEST_KEY}"
        assert metadata["report_date"] == last.isoformat()
        page = store.get_bytes(department.bucket, key).decode()
        assert store.get_bytes(department.bucket, DEPARTMENT_REPORT_LATEST_KEY).decode() == page
        path = Path(metadata["report_file"])
        assert path == load_settings().reports_dir / "departments" / f"{department.id}.html"
        assert path.read_text() == page
        assert f"{department.name}: report of {last}" in page
        assert 'src="data:image/png;base64,' in page  # public safety has no footage on the last day
        assert f'class="data-date">{last}</strong>' in page
        assert 'class="status pass">pass</span> (' in page
        assert "not checked</span> (" not in page  # every mart's checks ran in the backfill
        assert store.stat(department.bucket, department_report_key(DAYS[0])) is None


def test_a_publication_alone_reports_not_checked_and_an_older_day_leaves_the_latest(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    backfill: dg.ExecuteInProcessResult,
    store: ObjectStore,
) -> None:
    published = dg.AssetKey(["marts", "published", "traffic"])
    bucket = next(d.bucket for d in load_departments() if d.id == "traffic")
    latest = store.get_bytes(bucket, DEPARTMENT_REPORT_LATEST_KEY)
    older = run(
        definitions,
        instance,
        "marts_build_day",
        partition_key=DAYS[0].isoformat(),
        asset_selection=[published],
    )
    metadata = publication_metadata(older, "traffic")
    assert metadata["report"] == f"s3://{bucket}/{department_report_key(DAYS[0])}"
    assert "report_latest" not in metadata and "report_file" not in metadata  # DAYS[-1] is newer
    assert store.get_bytes(bucket, DEPARTMENT_REPORT_LATEST_KEY) == latest
    page = store.get_bytes(bucket, department_report_key(DAYS[0])).decode()
    assert 'class="status not-checked">not checked</span> (' in page  # no dbt test ran in that run
    assert "pass</span> (" not in page


def test_the_primary_key_test_returns_a_null_key_and_a_duplicated_key(
    backfill: dg.ExecuteInProcessResult,
) -> None:
    """The project's own generic test, on rows that break it: what it returns is what dbt fails on."""
    rows = "(select * from (values (1, 'a'), (1, 'b'), (null, 'c'), (2, 'd')) as t(k, v))"
    inline = f"{{{{ test_primary_key(model=\"{rows}\", columns=['k']) }}}}"
    args = ["show", "--quiet", "--output", "json", "--inline", inline]
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.lib.dbt", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout[-3000:]
    shown = {row["k"]: row["occurrences"] for row in json.loads(done.stdout)["show"]}
    assert shown == {None: 1, 1: 2}


def test_dbt_docs_generate_and_the_unit_tests_run_on_the_built_warehouse(
    backfill: dg.ExecuteInProcessResult,
) -> None:
    for args in (["docs", "generate"], ["test", "--select", "test_type:unit"]):
        done = subprocess.run(
            [sys.executable, "-m", "orchestration.lib.dbt", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:]
    catalog = json.loads((Path(os.environ["DBT_TARGET_PATH"]) / "catalog.json").read_text())
    assert {n.split(".")[-1] for n in catalog["nodes"]} >= {
        mart for marts in MARTS_BY_DEPARTMENT.values() for mart in marts
    }


# --- disaster known answers ---

READING = timedelta(minutes=5)


def true_flood(
    city: City, days: tuple[date, ...], storm_start: datetime | None
) -> tuple[str, datetime, datetime, datetime, float]:
    """(gauge, first reading at or above attention, peak, last one at or above attention, district
    rain of the 6 hours before the peak) of the storm's worst gauge over ``days``, from the
    simulator's clean readings (what bronze holds: no faults)."""
    tz = load_settings().zone
    sims = [simulate_day(city, day, tz=tz, seed=SEED, storm_start=storm_start) for day in days]
    storm = next(e for e in sims[0].events if e.kind == EventKind.STORM)
    rivers = [sim.kinds["river_level"] for sim in sims]
    slots = [slot for sim in sims for slot in sim.slots]
    home = {s.sensor_id: s.district_id for s in city.sensors}
    gauges = [g for g in rivers[0].sensor_ids if home[g] == storm.district_id]
    levels = {
        g: np.concatenate([r.values["level_m"][:, r.sensor_ids.index(g)] for r in rivers]) for g in gauges
    }
    gauge = max(gauges, key=lambda g: levels[g].max())
    above = np.flatnonzero(levels[gauge] >= city.gauge(gauge).attention_level_m)
    peak = int(np.argmax(levels[gauge]))
    rain = [sim.kinds["rain"] for sim in sims]
    rain_gauges = [g for g in rain[0].sensor_ids if home[g] == storm.district_id]
    district_rain = np.concatenate(
        [r.values["rainfall_mm"][:, [r.sensor_ids.index(g) for g in rain_gauges]].mean(axis=1) for r in rain]
    )
    before = float(district_rain[peak - 72 : peak].sum())  # the 72 five-minute intervals before the peak
    return gauge, slots[above[0]], slots[peak], slots[above[-1]], before


def alerts_of(sensor_id: str) -> pl.DataFrame:
    with warehouse() as con:
        return con.execute(
            "select * from disaster_management.fct_flood_alerts where sensor_id = ? order by local_date",
            [sensor_id],
        ).pl()


def assert_within_a_reading(alert: dict[str, Any], start: datetime, peak: datetime, end: datetime) -> None:
    assert abs(alert["start_at"] - start) <= READING
    assert abs(alert["peak_at"] - peak) <= READING
    assert abs(alert["end_at"] - end) <= READING


def test_the_storm_gives_one_flood_alert_episode_in_its_district_within_a_reading_of_the_truth(
    backfill: dg.ExecuteInProcessResult, truths: dict[date, DayTruth], city: City
) -> None:
    day = DAYS[0]
    storm = truths[day].event(EventKind.STORM)
    gauge, start, peak, end, rain_before = true_flood(city, (day,), None)
    alerts = alerts_of(gauge).filter(pl.col("local_date") == day)
    assert alerts["alert_id"].n_unique() == 1  # one episode: no flicker at the thresholds
    alert = alerts.row(0, named=True)
    assert alert["district_id"] == storm.district_id
    assert alert["local_date"] == day and not alert["is_open_at_day_end"]
    assert alert["peak_at"] == storm.peaks["level_m"].at  # the truth's peak, the very reading
    assert_within_a_reading(alert, start, peak, end)
    assert alert["rainfall_6h_before_peak_mm"] == pytest.approx(rain_before)


def test_a_flood_across_midnight_is_one_episode_continued_by_the_next_day(
    backfill: dg.ExecuteInProcessResult, truths: dict[date, DayTruth], city: City
) -> None:
    first, second = LATE_STORM_DAYS
    storms = [truths[day].event(EventKind.STORM) for day in LATE_STORM_DAYS]
    gauge, start, peak, end, rain_before = true_flood(city, LATE_STORM_DAYS, LATE_STORM)
    assert start.date() == first and end.date() == second  # the simulated flood does cross midnight
    alerts = alerts_of(gauge).filter(pl.col("local_date").is_in(LATE_STORM_DAYS))
    assert alerts["alert_id"].n_unique() == 1  # one episode, one id on both days
    evening, night = alerts.rows(named=True)
    assert (evening["local_date"], night["local_date"]) == (first, second)
    assert evening["is_open_at_day_end"] and not evening["is_continued_from_day_before"]
    assert night["is_continued_from_day_before"] and not night["is_open_at_day_end"]
    assert {evening["district_id"], night["district_id"]} == {s.district_id for s in storms}
    # the later day's row is the whole episode; the truth's peak is the higher of the two days'
    truth_peak = max((s.peaks["level_m"] for s in storms), key=lambda p: p.value)
    assert night["peak_at"] == truth_peak.at == peak
    assert_within_a_reading(night, start, peak, end)
    assert night["start_at"] == evening["start_at"]
    # exactly the 6 hours before a peak after midnight, the day before's rain included
    assert night["rainfall_6h_before_peak_mm"] == pytest.approx(rain_before)

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
from collections import Counter, defaultdict
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
    bronze_registry_key,
    department_report_key,
    mart_export_key,
)
from cityplatform.objectstore import BRONZE, ObjectStore, parquet_bytes, read_parquet
from cityplatform.settings import load_settings
from citysim import City, DayTruth, EventKind, build_city, simulate_day, write_iot_day
from citysim.cctv import PEDESTRIAN_CLASSES, ClipSpec, ClipTruth, render_clip
from governance.registry.departments import load_departments
from orchestration.defs.marts.assets import MARTS_BY_DEPARTMENT, PROJECT
from orchestration.lib.metadata import plain
from vision_jobs.count import minute_of
from vision_jobs.publication import write_clip
from vision_jobs.registry import load_registry
from vision_jobs.sinks import COUNTS_SCHEMA, COVERAGE_SCHEMA

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("dbt_target")]

SEED = 11
DAYS = (date(2026, 5, 4), date(2026, 5, 5), date(2026, 5, 6))
# The storm of DAYS[1] placed late (citysim's storm_start): it floods its river over midnight into DAYS[2].
LATE_STORM = datetime(2026, 5, 5, 22, 0)
LATE_STORM_DAYS = DAYS[1:]
BEFORE = DAYS[0] - timedelta(days=1)  # never built: a row there must survive every rebuild
PLANTED_VOLUME = 4321.0
CAMERA = load_registry().get("cam-01")
# (local hour, cars eastbound per minute, people northbound per minute) of cam-01's clips, each 5.5
# minutes long with no crossing in its third minute nor in its last half minute
CLIPS = ((8, 10, 3), (23, 4, 2))
CLIP_SECONDS = 330
MINUTES_WITH_CROSSINGS = (0, 1, 3, 4)


def per_hour(per_minute: int) -> float:
    """What a clip's crossings extrapolate to: over the seconds observed, not the minutes with a crossing."""
    return per_minute * len(MINUTES_WITH_CROSSINGS) * 3600 / CLIP_SECONDS


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
    """cam-01's counts and coverage for two clips, as vision_jobs writes them (one parquet per clip)."""
    for hour, cars, people in CLIPS:
        start = datetime.combine(day, time(hour), load_settings().zone)
        name = ClipName(CAMERA.camera_id, start)
        camera = {
            "camera_id": CAMERA.camera_id,
            "segment_id": CAMERA.segment_id,
            "district_id": CAMERA.district_id,
            "clip": name.format(),
        }
        rows = [
            {
                **camera,
                "minute_start": start + timedelta(minutes=minute),
                "line_id": line,
                "direction": direction,
                "object_class": object_class,
                "crossings": count,
            }
            for minute in MINUTES_WITH_CROSSINGS
            for line, direction, object_class, count in (
                ("road", "eastbound", "car", cars),
                ("crosswalk", "northbound", "person", people),
            )
        ]
        coverage = [
            {
                **camera,
                "minute_start": start + timedelta(minutes=minute),
                "frames": round(seconds * 5),
                "observed_seconds": float(seconds),
            }
            for minute, seconds in enumerate([60] * (CLIP_SECONDS // 60) + [CLIP_SECONDS % 60])
        ]
        tables = {
            "counts": pl.DataFrame(rows, schema=COUNTS_SCHEMA),
            "coverage": pl.DataFrame(coverage, schema=COVERAGE_SCHEMA),
        }
        write_clip(store, BRONZE, name, tables)


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


def dbt(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """dbt by hand in the project, with the platform's settings (``python -m orchestration.lib.dbt``)."""
    return subprocess.run(
        [sys.executable, "-m", "orchestration.lib.dbt", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_a_full_refresh_rebuilds_the_window_and_keeps_every_other_day(
    backfill: dg.ExecuteInProcessResult,
) -> None:
    """``full_refresh: false`` on day partitions: `dbt build --full-refresh` replaces the run's days
    as any build does, and the day never built (planted by the test above) survives it."""
    before = hourly_traffic()
    done = dbt(
        "build",
        "--full-refresh",
        "--select",
        "fct_segment_traffic_hourly",
        env={"CITY_MIN_DATE": DAYS[1].isoformat(), "CITY_MAX_DATE": DAYS[1].isoformat()},
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert hourly_traffic() == before
    assert BEFORE in before


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
        night = dict(
            con.execute(
                "select local_date, night_pedestrians_per_camera_hour "
                "from public_safety.fct_night_activity_coverage where district_id = ?",
                [CAMERA.district_id],
            ).fetchall()
        )
        uptime = dict(
            con.execute(
                "select local_date, uptime_pct from policy_planning.fct_asset_uptime where asset_id = ?",
                [CAMERA.camera_id],
            ).fetchall()
        )
    # 330 s of footage scaled to an hour, the minutes without a crossing included
    assert cctv == {at[hour]: pytest.approx(per_hour(cars)) for hour, cars, _ in CLIPS}
    assert people == {at[hour]: pytest.approx(per_hour(persons)) for hour, _, persons in CLIPS}
    # the first day's 23:00 clip is in the night that ends on the second day's morning
    assert night[DAYS[0]] is None and night[DAYS[1]] == pytest.approx(per_hour(CLIPS[1][2]))
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


def test_data_tests_of_a_day_partitioned_model_check_the_days_of_the_run(
    backfill: dg.ExecuteInProcessResult,
) -> None:
    """A null key planted on the first day fails the model's key test in a run of that day, and
    not in a run of the second day, which reads only its own day (macros/replace_days.sql)."""
    table = "intermediate.int_rain_readings_located"
    with duckdb.connect(str(load_settings().warehouse_path)) as planted:
        planted.execute(
            f"insert into {table} select * replace (null as sensor_id) from {table} "
            "where local_date = ? limit 1",
            [DAYS[0]],
        )
    try:
        runs = {
            day: dbt(
                "test",
                "--select",
                "int_rain_readings_located,test_name:primary_key",
                env={"CITY_MIN_DATE": day.isoformat(), "CITY_MAX_DATE": day.isoformat()},
            )
            for day in DAYS[:2]
        }
    finally:
        with duckdb.connect(str(load_settings().warehouse_path)) as planted:
            planted.execute(f"delete from {table} where sensor_id is null")
    assert runs[DAYS[1]].returncode == 0, runs[DAYS[1]].stdout[-3000:]
    assert runs[DAYS[0]].returncode == 1
    assert "FAIL 1 primary_key_int_rain_readings_located_sensor_id__observed_at" in runs[DAYS[0]].stdout


def test_dbt_docs_generate_and_the_unit_tests_run_on_the_built_warehouse(
    backfill: dg.ExecuteInProcessResult, manifest: dict[str, Any]
) -> None:
    for args in (["docs", "generate"], ["test", "--select", "test_type:unit"]):
        done = dbt(*args)
        assert done.returncode == 0, done.stdout[-3000:]
    catalog = json.loads((Path(os.environ["DBT_TARGET_PATH"]) / "catalog.json").read_text())
    assert {n.split(".")[-1] for n in catalog["nodes"]} >= {
        mart for marts in MARTS_BY_DEPARTMENT.values() for mart in marts
    }
    assert set(catalog["sources"]) == set(manifest["sources"])  # a relation behind every source


def test_source_freshness_reads_every_reading_source_from_s3(
    backfill: dg.ExecuteInProcessResult, manifest: dict[str, Any]
) -> None:
    """`dbt source freshness` through the bronze views: the newest reading of each kind is the last
    slot of the last day landed (days long past: they fail the 50-hour rule, which is the point)."""
    done = dbt("source", "freshness")
    assert done.returncode == 1, done.stdout[-3000:]  # error_after exceeded, not a runtime error
    results = json.loads((Path(os.environ["DBT_TARGET_PATH"]) / "sources.json").read_text())["results"]
    checked = {r["unique_id"]: r for r in results}
    readings = {k for k, s in manifest["sources"].items() if "glob" in s["meta"]}
    assert set(checked) == readings  # the registry has no freshness rule
    zone = load_settings().zone
    last_slot = datetime.combine(DAYS[-1], time(23, 55), zone)
    last_clip_hour = datetime.combine(DAYS[0], time(CLIPS[-1][0]), zone)
    newest_cctv = {  # the last minute with a crossing; the last minute the clip covered at all
        "source.city.cctv.counts": last_clip_hour + timedelta(minutes=MINUTES_WITH_CROSSINGS[-1]),
        "source.city.cctv.coverage": last_clip_hour + timedelta(minutes=(CLIP_SECONDS - 1) // 60),
    }
    for unique_id, result in checked.items():
        assert result["status"] == "error", (unique_id, result.get("error"))
        newest = datetime.fromisoformat(result["max_loaded_at"])
        assert newest == newest_cctv.get(unique_id, last_slot)


def test_an_old_day_rebuilt_after_a_registry_change_joins_the_registry_as_it_was(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    backfill: dg.ExecuteInProcessResult,
    store: ObjectStore,
    truths: dict[date, DayTruth],
) -> None:
    """Lower the jammed segment's speed limit in the registry, then rebuild the first day: the
    snapshot records a second version, open from now on, and the old day's congested minutes
    (readings below half the limit) and the hourly mart's speed ratio and level of service still
    use the limit of its time."""
    jammed = truths[DAYS[0]].event(EventKind.CONGESTION).segment_id
    query = (
        "select hour_start, congested_minutes from intermediate.int_segment_loop_hours_aggregated "
        "where segment_id = ? and local_date = ? order by 1"
    )
    mart_query = (
        # rounded: a rebuild may sum the same speeds in another order (the last bits differ)
        "select hour_start, round(speed_ratio, 9), worst_los from traffic.fct_segment_traffic_hourly "
        "where segment_id = ? and local_date = ? order by 1"
    )
    with warehouse() as con:
        congested = con.execute(query, [jammed, DAYS[0]]).fetchall()
        hourly = con.execute(mart_query, [jammed, DAYS[0]]).fetchall()
    assert sum(minutes for _, minutes in congested) > 0
    assert any(ratio is not None for _, ratio, _ in hourly)
    key = bronze_registry_key("road_segments")
    segments = read_parquet(store, BRONZE, key)
    slower = segments.with_columns(
        pl.when(pl.col("segment_id") == jammed)
        .then(1)
        .otherwise(pl.col("speed_limit_kmh"))
        .alias("speed_limit_kmh")
    )
    store.put_bytes(BRONZE, key, parquet_bytes(slower))
    hours = dg.AssetSelection.assets(dg.AssetKey(["marts", "traffic", "fct_segment_traffic_hourly"]))
    selection = [
        k for k in hours.upstream().resolve(definitions.resolve_asset_graph()) if k.path[0] == "marts"
    ]
    run(
        definitions, instance, "marts_build_day", partition_key=DAYS[0].isoformat(), asset_selection=selection
    )
    with warehouse() as con:
        assert con.execute(query, [jammed, DAYS[0]]).fetchall() == congested
        assert con.execute(mart_query, [jammed, DAYS[0]]).fetchall() == hourly
        versions = con.execute(
            "select speed_limit_kmh, valid_from = '-infinity', valid_to = 'infinity' "
            "from staging.stg_iot__road_segment_versions where segment_id = ? order by valid_from",
            [jammed],
        ).fetchall()
    original = segments.filter(pl.col("segment_id") == jammed)["speed_limit_kmh"].item()
    assert versions == [(original, True, False), (1, False, True)]  # the open version: the new limit


# --- environment known answers ---

# AirKorea's real-time particulates (https://www.airkorea.or.kr/web/caiCalculator?pMENU_NO=147): C24E =
# (C12 + C4) / 2, C4 the mean of the last 4 hours' Ca, Ca = 0.75 x C when C >= M and 0.9 <= C / C12 <= 1.7.
TREND_THRESHOLD = {"pm10": 70.0, "pm25": 30.0}
MIN_HOURS_12, MIN_HOURS_4 = 9, 3  # 75 % of each window, as the mart requires


def district_hourly_means(city: City, days: tuple[date, ...]) -> dict[str, dict[str, list[float]]]:
    """District -> measure -> hourly means over the district's stations, hour after hour of ``days``."""
    home = {s.sensor_id: s.district_id for s in city.sensors}
    means: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for day in days:
        readings = simulate_day(city, day, tz=load_settings().zone, seed=SEED).kinds["air_quality"]
        by_district: dict[str, list[int]] = defaultdict(list)
        for column, sensor_id in enumerate(readings.sensor_ids):
            by_district[home[sensor_id]].append(column)
        for district, columns in by_district.items():
            for m in BANDS:
                hourly = readings.values[m][:, columns].reshape(24, 12 * len(columns)).mean(axis=1)
                means[district][m].extend(float(v) for v in hourly)
    return means


def predicted_24h(series: list[float], pollutant: str) -> list[float | None]:
    """AirKorea's C24E at every hour of ``series`` (which starts with no hour before it)."""
    c12 = [float(np.mean(series[max(0, i - 11) : i + 1])) for i in range(len(series))]
    adjusted = [
        0.75 * c if c >= TREND_THRESHOLD[pollutant] and 0.9 <= c / c12[i] <= 1.7 else c
        for i, c in enumerate(series)
    ]
    return [
        (c12[i] + float(np.mean(adjusted[max(0, i - 3) : i + 1]))) / 2
        if min(i + 1, 12) >= MIN_HOURS_12 and min(i + 1, 4) >= MIN_HOURS_4
        else None
        for i in range(len(series))
    ]


def hand_hourly_cai(city: City, days: tuple[date, ...]) -> dict[tuple[str, datetime], int | None]:
    """(district, hour start) -> the real-time hourly CAI of ``days`` (the first with no day before)."""
    zone = load_settings().zone
    starts = [datetime.combine(day, time(hour), zone) for day in days for hour in range(24)]
    result: dict[tuple[str, datetime], int | None] = {}
    for district, means in district_hourly_means(city, days).items():
        pm = {p: predicted_24h(means[p], p) for p in ("pm10", "pm25")}
        for i, start in enumerate(starts):
            pm10, pm25 = pm["pm10"][i], pm["pm25"][i]
            if pm10 is None or pm25 is None:
                result[(district, start)] = None
                continue
            indices = (
                sub_index("pm10", pm10),
                sub_index("pm25", pm25),
                sub_index("no2", means["no2"][i]),
                sub_index("o3", means["o3"][i]),
            )
            result[(district, start)] = min(500, max(indices) + addon(indices))
    return result


def hourly_air(
    day: date | None = None,
) -> dict[tuple[str, datetime], tuple[int | None, str | None, str | None]]:
    """(district, hour start) -> (cai, cai_category, cai_null_reason) of the hourly air-quality mart."""
    where, params = (" where local_date = ?", [day]) if day else ("", [])
    with warehouse() as con:
        rows = con.execute(
            "select district_id, hour_start, cai, cai_category, cai_null_reason "
            f"from environment.fct_air_quality_hourly{where}",
            params,
        ).fetchall()
    zone = load_settings().zone
    return {(d, start.astimezone(zone)): (cai, name, why) for d, start, cai, name, why in rows}


def test_hourly_cai_of_every_district_and_hour_matches_airkorea_s_predicted_24_hour_mean_by_hand(
    backfill: dg.ExecuteInProcessResult, city: City
) -> None:
    """Exact, for both days; the first day's first 8 hours have too few hours (no day before it)."""
    hand = hand_hourly_cai(city, DAYS)
    mart = hourly_air()
    assert {key: cai for key, (cai, _, _) in mart.items()} == hand
    assert all(name == (None if cai is None else category(cai)) for cai, name, _ in mart.values())
    first_hours = {
        why for (_, start), (_, _, why) in mart.items() if start.date() == DAYS[0] and start.hour < 8
    }
    assert first_hours == {f"particulates in {n} of the last 12 hours (needs 9)" for n in range(1, 9)}


def test_pollution_episode_is_the_city_s_worst_cai_in_its_district_within_its_hours(
    backfill: dg.ExecuteInProcessResult, truths: dict[date, DayTruth]
) -> None:
    zone = load_settings().zone
    mart = hourly_air()
    for day, truth in truths.items():
        episode = truth.event(EventKind.POLLUTION_EPISODE)
        scored = {key: value for key, value in mart.items() if key[1].date() == day and value[0] is not None}
        (district, worst_hour), (cai, name, _) = max(scored.items(), key=lambda item: item[1][0])
        assert district == episode.district_id
        assert episode.start <= worst_hour <= episode.end
        assert name == "very_unhealthy" == category(cai)
        # in the hour of the true PM10 peak the episode's district is already the worst, unhealthy or worse
        peak_hour = episode.peaks["pm10"].at.astimezone(zone).replace(minute=0)
        at_peak = {d: value for (d, start), value in scored.items() if start == peak_hour}
        assert max(at_peak, key=lambda d: at_peak[d][0]) == episode.district_id
        assert at_peak[episode.district_id][1] in ("unhealthy", "very_unhealthy")


def test_a_one_day_build_of_the_hourly_cai_reads_the_day_before(
    definitions: dg.Definitions, instance: dg.DagsterInstance, backfill: dg.ExecuteInProcessResult, city: City
) -> None:
    """Rebuild the second day alone: its first hours still take the first day's hours into C12 and C4."""
    before = hourly_air(DAYS[1])
    hourly = dg.AssetSelection.assets(dg.AssetKey(["marts", "environment", "fct_air_quality_hourly"]))
    selection = [
        k for k in hourly.upstream().resolve(definitions.resolve_asset_graph()) if k.path[0] == "marts"
    ]
    run(
        definitions, instance, "marts_build_day", partition_key=DAYS[1].isoformat(), asset_selection=selection
    )
    after = hourly_air(DAYS[1])
    assert after == before
    hand = hand_hourly_cai(city, DAYS)
    assert {key: cai for key, (cai, _, _) in after.items()} == {
        key: cai for key, cai in hand.items() if key[1].date() == DAYS[1]
    }
    assert all(cai is not None for cai, _, _ in after.values())  # hour 0 has the day before's 11 hours


# --- traffic known answers ---


def hours_of(start: datetime, end: datetime) -> set[datetime]:
    """The starts of the hours that [start, end] touches."""
    first = start.replace(minute=0, second=0, microsecond=0)
    return {first + timedelta(hours=h) for h in range(int((end - first) / timedelta(hours=1)) + 1)}


def test_the_simulated_jam_is_level_of_service_f_in_its_segment_and_hours_and_nowhere_else(
    backfill: dg.ExecuteInProcessResult, truths: dict[date, DayTruth]
) -> None:
    """The jam's peak hour is LOS F and its hours hold at least half an hour at LOS E/F; no other
    segment-hour is F, and the ordinary rush hours never spend one 15-minute period at LOS E or F."""
    with warehouse() as con:
        hours = con.execute(
            "select local_date, segment_id, hour_start, worst_los, congested_minutes, travel_time_index "
            "from traffic.fct_segment_traffic_hourly where worst_los is not null"
        ).pl()
        districts = con.execute(
            "select local_date, district_id, congested_segment_hours, worst_los "
            "from traffic.fct_district_peak_hours"
        ).pl()
    for day, truth in truths.items():
        jam = truth.event(EventKind.CONGESTION)
        jammed = {(jam.segment_id, hour) for hour in hours_of(jam.start, jam.end)}
        peak = (jam.segment_id, jam.peak.replace(minute=0, second=0, microsecond=0))
        today = hours.filter(pl.col("local_date") == day)
        at_f = {(r["segment_id"], r["hour_start"]) for r in today.filter(worst_los="F").iter_rows(named=True)}
        assert peak in at_f
        assert at_f <= jammed
        congested = today.filter(pl.col("congested_minutes") >= 15)
        assert {(r["segment_id"], r["hour_start"]) for r in congested.iter_rows(named=True)} <= jammed
        rows = today.iter_rows(named=True)
        jam_minutes = sum(
            r["congested_minutes"] for r in rows if (r["segment_id"], r["hour_start"]) in jammed
        )
        assert jam_minutes >= 30  # half an hour or more at LOS E/F, however the jam straddles the hours
        busy = districts.filter((pl.col("local_date") == day) & (pl.col("congested_segment_hours") > 0))
        assert busy["district_id"].to_list() == [jam.district_id]
        assert set(districts.filter(worst_los="F", local_date=day)["district_id"]) == {jam.district_id}


def test_the_camera_is_compared_with_the_loop_on_its_segment(backfill: dg.ExecuteInProcessResult) -> None:
    """cam-01 watches RS001, which has a loop: every hour of footage is compared, by the GEH rule."""
    with warehouse() as con:
        compared = con.execute(
            "select local_hour, loop_volume_vph, cctv_volume_vph, geh, agrees "
            "from traffic.fct_loop_camera_agreement where segment_id = ? and local_date = ?",
            [CAMERA.segment_id, DAYS[0]],
        ).fetchall()
        camera_only = con.execute(
            "select count(*) from traffic.fct_segment_traffic_hourly "
            "where is_camera_estimate and segment_id = ?",
            [CAMERA.segment_id],
        ).fetchone()
    assert sorted(hour for hour, *_ in compared) == [hour for hour, _, _ in CLIPS]
    for _, loop, camera, geh, agrees in compared:
        assert geh == pytest.approx(math.sqrt(2 * (camera - loop) ** 2 / (camera + loop)))
        assert agrees == (geh < 5)
    assert camera_only == (0,)  # the loop's count stands; the camera's figure is never presented as one


# --- public safety known answers ---

SAFETY = ("marts", "public_safety")
# A night outside DAYS, so the footage written for it changes no other test's days.
FOOTAGE_DAY = DAYS[-1] + timedelta(days=1)


def safety_rebuild(definitions: dg.Definitions, instance: dg.DagsterInstance, day: date, *marts: str) -> None:
    """Rebuild only ``marts`` of public safety for ``day``, from the warehouse's hourly marts as they are."""
    selection = [dg.AssetKey([*SAFETY, mart]) for mart in marts]
    run(definitions, instance, "marts_build_day", partition_key=day.isoformat(), asset_selection=selection)


def patrol_night(day: date) -> dict[str, tuple[Any, ...]]:
    with warehouse() as con:
        rows = con.execute(
            "select district_id, priority_rank, priority_score, night_vehicles_per_segment, "
            "night_measured_segments from public_safety.fct_patrol_priority where local_date = ?",
            [day],
        ).fetchall()
    return {district: tuple(rest) for district, *rest in rows}


def test_patrol_priority_is_unchanged_when_a_district_gains_loops_but_not_traffic(
    definitions: dg.Definitions, instance: dg.DagsterInstance, backfill: dg.ExecuteInProcessResult
) -> None:
    """The busiest measured district gains a twin of every measured segment (new loops, each with the
    same traffic as one it has): its night traffic per segment, every score and every rank stay."""
    night = DAYS[1]
    before = patrol_night(night)
    district = max(before, key=lambda d: before[d][2] or 0)
    segments = before[district][3]
    assert segments > 0  # the simulated city measures that district's roads at night
    twins = "select * replace (segment_id || '-twin' as segment_id) from traffic.fct_segment_traffic_hourly"
    matching = "district_id = ? and local_date in (?, ?)"
    with duckdb.connect(str(load_settings().warehouse_path)) as con:
        con.execute(
            f"insert into traffic.fct_segment_traffic_hourly {twins} where {matching}", [district, *DAYS[:2]]
        )
    try:
        safety_rebuild(definitions, instance, night, "fct_night_activity_coverage", "fct_patrol_priority")
        after = patrol_night(night)
    finally:
        with duckdb.connect(str(load_settings().warehouse_path)) as con:
            con.execute(
                "delete from traffic.fct_segment_traffic_hourly "
                f"where segment_id like '%-twin' and {matching}",
                [district, *DAYS[:2]],
            )
        safety_rebuild(definitions, instance, night, "fct_night_activity_coverage", "fct_patrol_priority")
    assert after[district][3] == 2 * segments  # twice the loops ...
    assert after[district][2] == pytest.approx(before[district][2])  # ... the same traffic per segment
    assert {d: row[:2] for d, row in after.items()} == {d: row[:2] for d, row in before.items()}
    assert patrol_night(night) == before  # the twins removed, the night rebuilds as it was


def frame_time(start: datetime, frame: int, fps: float) -> datetime:
    """A rendered frame's instant: the simulator writes frames at a constant rate."""
    return start + timedelta(seconds=frame / fps)


def footage_coverage(truth: ClipTruth) -> pl.DataFrame:
    """The minutes a clip covers and the seconds of footage in each, as the vision job records them."""
    spec, camera = truth.spec, load_registry().get(truth.spec.camera_id)
    rows = [
        {
            "camera_id": camera.camera_id,
            "segment_id": camera.segment_id,
            "district_id": camera.district_id,
            "clip": spec.clip_name,
            "minute_start": spec.start + timedelta(minutes=m),
            "frames": int(min(60, spec.seconds - 60 * m) * spec.fps),
            "observed_seconds": float(min(60, spec.seconds - 60 * m)),
        }
        for m in range(-(-spec.seconds // 60))
    ]
    return pl.DataFrame(rows, schema=COVERAGE_SCHEMA)


def true_counts(truth: ClipTruth) -> pl.DataFrame:
    """A clip's true crossings as the vision job writes its counts: per minute, line, direction and class."""
    camera = load_registry().get(truth.spec.camera_id)
    tally = Counter(
        (
            minute_of(frame_time(truth.spec.start, frame, truth.spec.fps)),
            line,
            direction,
            object_class,
        )
        for frame, line, direction, object_class in truth.crossings.select(
            "frame_index", "line_id", "direction", "object_class"
        ).iter_rows()
    )
    keys = {
        "camera_id": camera.camera_id,
        "segment_id": camera.segment_id,
        "district_id": camera.district_id,
        "clip": truth.spec.clip_name,
    }
    rows = [
        {**keys, "minute_start": m, "line_id": line, "direction": d, "object_class": cls, "crossings": n}
        for (m, line, d, cls), n in sorted(tally.items())
    ]
    return pl.DataFrame(rows, schema=COUNTS_SCHEMA)


def test_pedestrian_activity_of_a_camera_matches_the_simulated_true_crossings(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    backfill: dg.ExecuteInProcessResult,
    store: ObjectStore,
    tmp_path: Path,
) -> None:
    """Two minutes of cam-01 at 23:00, rendered by the CCTV simulator; its true crossings land as the
    vision job's counts (a perfect detector: the detector's own error is measured by vision_jobs'
    evaluation, not here). The hour's pedestrians are the true ones, per camera-hour of footage, and
    they are the night that ends the next morning."""
    start = datetime.combine(FOOTAGE_DAY, time(23), load_settings().zone)
    spec = ClipSpec(CAMERA.camera_id, start, seconds=120, fps=10, width=320, height=180, seed=7)
    truth = render_clip(spec, tmp_path / f"{spec.clip_name}.mp4")
    people = truth.crossings.filter(pl.col("object_class").is_in(list(PEDESTRIAN_CLASSES)))
    minutes = {minute_of(frame_time(start, frame, spec.fps)) for frame in truth.crossings["frame_index"]}
    assert people.height > 0 and len(minutes) == 2  # people crossed, and something crossed in each minute
    write_clip(store, BRONZE, spec.name, {"counts": true_counts(truth), "coverage": footage_coverage(truth)})
    hourly = dg.AssetSelection.assets(dg.AssetKey([*SAFETY, "fct_pedestrian_activity_hourly"]))
    selection = [
        k for k in hourly.upstream().resolve(definitions.resolve_asset_graph()) if k.path[0] == "marts"
    ]
    run(
        definitions,
        instance,
        "marts_build_day",
        partition_key=FOOTAGE_DAY.isoformat(),
        asset_selection=selection,
    )
    safety_rebuild(definitions, instance, FOOTAGE_DAY + timedelta(days=1), "fct_night_activity_coverage")
    with warehouse() as con:
        crossings, per_camera_hour = con.execute(
            "select pedestrian_crossings, pedestrians_per_camera_hour "
            "from public_safety.fct_pedestrian_activity_hourly where district_id = ? and hour_start = ?",
            [CAMERA.district_id, start],
        ).fetchone()
        night = con.execute(
            "select night_pedestrians_per_camera_hour, night_camera_hours "
            "from public_safety.fct_night_activity_coverage where district_id = ? and local_date = ?",
            [CAMERA.district_id, FOOTAGE_DAY + timedelta(days=1)],
        ).fetchone()
    footage_hours = spec.seconds / 3600
    assert crossings == people.height
    assert per_camera_hour == pytest.approx(people.height / footage_hours)
    assert night == pytest.approx((people.height / footage_hours, footage_hours))


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

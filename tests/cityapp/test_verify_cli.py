"""``city verify`` against the real embedded S3 server: days written by the platform's own writers
(IoT ingestion, the vision job's clip publication, mart publication), then changed behind the
platform's back, must be reported file by file with exit code 4."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner, Result

from cityapp.cli.main import app
from cityplatform.exits import EXIT_CONFIG, EXIT_DATA, EXIT_STORAGE
from cityplatform.layout import (
    ClipName,
    landing_iot_key,
    mart_export_key,
)
from cityplatform.objectstore import BRONZE, LANDING, ObjectStore, parquet_bytes, parquet_record_key
from cityplatform.settings import Settings
from governance.department_report import CheckStatus
from governance.registry.departments import load_departments
from ingestion.day import ingest_manifest
from ingestion.landing import LandingManifest
from orchestration.defs.marts.publish import export_marts
from orchestration.defs.marts.status import write_published
from vision_jobs.publication import write_clip

SEOUL = ZoneInfo("Asia/Seoul")
MART = "verify_probe"  # a mart of this module's own, in a real department's bucket
KNOWN = ["AQ-0001", "AQ-0002"]


def write_day(store: ObjectStore, day: date, warehouse: Path) -> dict[str, str]:
    """One day through the platform's writers; the URIs of a file of each kind."""
    at = datetime(day.year, day.month, day.day, 8, 0, tzinfo=SEOUL)
    lines = [
        {"sensor_id": sensor, "kind": "air_quality", "observed_at": at.isoformat()}
        | {"pm10": 40.5, "pm25": 20.0, "no2": 0.02, "o3": 0.03}
        for sensor in KNOWN
    ]
    body = "\n".join([*map(json.dumps, lines), "not json"]) + "\n"
    store.put_bytes(LANDING, landing_iot_key("air_quality", at), body.encode())
    manifest = LandingManifest.from_listing(store, day, SEOUL)
    manifest.save(store)
    ingest = ingest_manifest(store, manifest, known_sensors=KNOWN, tz=SEOUL)
    clip = write_clip(store, BRONZE, ClipName("cam-verify", at), {"counts": pl.DataFrame({"vehicles": [3]})})
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists probe")
        con.execute(
            f"create or replace table probe.{MART} as select ?::date as local_date, 7 as value", [day]
        )
    bucket = load_departments()[0].bucket
    export_marts(
        store,
        warehouse,
        schema="probe",
        marts=[MART],
        bucket=bucket,
        start=day,
        end=date.fromordinal(day.toordinal() + 1),
    )
    write_published(store, bucket, {MART: CheckStatus()}, first=day, last=day, run_id="verify-test")
    return {
        "bronze": f"s3://{BRONZE}/{ingest.publication.bronze_key('air_quality')}",
        "cctv": clip.files["counts"].info.uri,
        "mart": f"s3://{bucket}/{mart_export_key(MART, day)}",
    }


def verify(day: date, *extra: str) -> Result:
    return CliRunner().invoke(app, ["verify", "--from", day.isoformat(), "--to", day.isoformat(), *extra])


def problems(result: Result) -> dict[str, str]:
    """URI -> kind of every problem in the JSON report."""
    return {p["uri"]: p["kind"] for p in json.loads(result.stdout)["problems"]}


def test_a_clean_day_verifies(city_settings: Settings, store: ObjectStore, tmp_path: Path) -> None:
    day = date(2032, 5, 1)
    write_day(store, day, tmp_path / "warehouse.duckdb")
    result = verify(day, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # five kinds of bronze readings, the quarantine, one CCTV table, one mart
    assert (report["ok"], report["files_checked"], report["problems"]) == (True, 8, [])


@pytest.mark.parametrize("what", ["bronze", "cctv", "mart"])
def test_a_tampered_file_is_a_mismatch(
    city_settings: Settings, store: ObjectStore, tmp_path: Path, what: str
) -> None:
    day = date(2032, 5, {"bronze": 2, "cctv": 3, "mart": 4}[what])
    uri = write_day(store, day, tmp_path / "warehouse.duckdb")[what]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    data = bytearray(store.get_bytes(bucket, key))
    data[len(data) // 2] ^= 0xFF  # one byte of the data pages: the footer still reads
    store.put_bytes(bucket, key, bytes(data))
    result = verify(day, "--json")
    assert result.exit_code == EXIT_DATA, result.output
    assert problems(result) == {uri: "mismatch"}
    assert "sha256" in json.loads(result.stdout)["problems"][0]["detail"]


def test_a_rewrite_with_other_rows_is_a_row_mismatch(
    city_settings: Settings, store: ObjectStore, tmp_path: Path
) -> None:
    day = date(2032, 5, 5)
    uri = write_day(store, day, tmp_path / "warehouse.duckdb")["mart"]
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    store.put_bytes(bucket, key, parquet_bytes(pl.DataFrame({"local_date": [day, day], "value": [7, 8]})))
    result = verify(day)
    assert result.exit_code == EXIT_DATA
    assert f"mismatch {uri}" in result.stdout and "2 rows but 1 were written" in result.stdout


def test_deleted_files_are_missing(city_settings: Settings, store: ObjectStore, tmp_path: Path) -> None:
    day = date(2032, 5, 6)
    uris = write_day(store, day, tmp_path / "warehouse.duckdb")
    bucket, key = uris["cctv"].removeprefix("s3://").split("/", 1)
    store.delete_keys(bucket, [key])  # the file alone: its record says it was written
    for what in ("bronze", "mart"):  # file and record: the day's landing manifest, the mart's status say
        bucket, key = uris[what].removeprefix("s3://").split("/", 1)
        store.delete_keys(bucket, [key, parquet_record_key(key)])
    result = verify(day, "--json")
    assert result.exit_code == EXIT_DATA, result.output
    assert problems(result) == {uri: "missing" for uri in uris.values()}


def test_a_stray_parquet_is_extra(city_settings: Settings, store: ObjectStore, tmp_path: Path) -> None:
    day = date(2032, 5, 7)
    published = write_day(store, day, tmp_path / "warehouse.duckdb")["cctv"]
    stray = published.removeprefix(f"s3://{BRONZE}/").rsplit("/", 1)[0] + "/stray.parquet"
    store.put_bytes(BRONZE, stray, parquet_bytes(pl.DataFrame({"x": [1]})))
    result = verify(day)
    assert result.exit_code == EXIT_DATA
    assert f"extra s3://{BRONZE}/{stray}" in result.stdout


def test_a_clip_table_deleted_on_time_by_retention_is_not_missing(
    city_settings: Settings, store: ObjectStore
) -> None:
    """A clip's publication names every table, but retention deletes the detections (personal, 30
    days) long before the counts (400 days): past 30 days only the counts must still be there."""
    day = datetime.now(SEOUL).date() - timedelta(days=100)
    at = datetime(day.year, day.month, day.day, 8, 0, tzinfo=SEOUL)
    tables = {table: pl.DataFrame({"rows": [1]}) for table in ("detections", "counts")}
    clip = write_clip(store, BRONZE, ClipName("cam-retained", at), tables)
    for table in tables:  # as retention deletes: the file and its record
        key = clip.files[table].info.key
        store.delete_keys(BRONZE, [key, parquet_record_key(key)])
    result = verify(day, "--json")
    assert result.exit_code == EXIT_DATA, result.output
    assert problems(result) == {clip.files["counts"].info.uri: "missing"}


def test_bad_days_and_unreachable_storage(city_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    assert (
        CliRunner().invoke(app, ["verify", "--from", "2032-05-02", "--to", "2032-05-01"]).exit_code
        == EXIT_CONFIG
    )
    assert (
        CliRunner().invoke(app, ["verify", "--from", "2032-02-30", "--to", "2032-05-01"]).exit_code
        == EXIT_CONFIG
    )
    monkeypatch.setenv("CITY_S3_ENDPOINT", "127.0.0.1:9")  # discard port: nothing answers
    result = CliRunner().invoke(app, ["verify", "--from", "2032-05-01", "--to", "2032-05-01"])
    assert result.exit_code == EXIT_STORAGE
    assert "does not answer" in result.stderr

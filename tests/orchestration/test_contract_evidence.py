"""A failed contract check keeps Pandera's failure cases in S3, links them and names each rule broken."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl
import pytest

from cityplatform.objectstore import QUARANTINE, ObjectStore, parse_s3_uri, read_parquet
from governance.contracts import Chunks
from governance.contracts.cctv import CCTV_SCHEMAS
from governance.contracts.iot import reading_schema
from orchestration.defs.cctv.keys import COUNTS
from orchestration.defs.iot.assets import BRONZE_READINGS as READINGS
from orchestration.lib.contracts import contract_check, rules_in

pytestmark = pytest.mark.integration


def check_of(store: ObjectStore, frame: pl.DataFrame, clip: str) -> dg.AssetCheckResult:
    return contract_check(store, COUNTS, clip, date(2026, 11, 24), [(CCTV_SCHEMAS["counts"], frame)])


def test_failure_cases_are_written_to_quarantine_and_linked(store: ObjectStore) -> None:
    check = check_of(
        store, pl.DataFrame({"camera_id": ["cam-01"], "crossings": [-3]}), "cam-01_20261124T080000"
    )
    assert not check.passed
    uri = check.metadata["failure_cases"].value
    bucket, key = parse_s3_uri(uri)
    assert (
        bucket == QUARANTINE
        and key == "contract-failures/cctv/derived/counts/date=2026-11-24/cam-01_20261124T080000.parquet"
    )
    evidence = read_parquet(store, bucket, key)
    assert evidence.height == sum(check.metadata["failures_by_check"].value.values())
    assert {"column", "check", "failure_case"} <= set(evidence.columns)
    broken = {(r.column, r.rule) for r in rules_in(check.metadata) if r.failing_rows}
    assert ("crossings", "greater_than_or_equal_to(0)") in broken
    assert {r.contract for r in rules_in(check.metadata)} == {"cctv_counts"}


def test_a_table_checked_in_chunks_gives_the_outcome_and_evidence_of_one_check_of_it(
    store: ObjectStore,
) -> None:
    start = datetime(2026, 11, 24, tzinfo=UTC)
    rows = 10  # two sensors, four readings a slot apart each: repeats across every chunk
    frame = pl.DataFrame(
        {
            "sensor_id": [f"RG-{i % 2:04d}" for i in range(rows)],
            "kind": "rain",
            "observed_at": [start + timedelta(minutes=5 * (i // 4)) for i in range(rows)],
            "rainfall_mm": [float(i) - 2 for i in range(rows)],  # two below the range
        }
    ).with_columns(pl.col("observed_at").dt.cast_time_unit("us"))
    schema = reading_schema("rain")

    def check(table: pl.DataFrame | Chunks, partition: str) -> tuple[dict[str, object], pl.DataFrame]:
        result = contract_check(store, READINGS, partition, start.date(), [(schema, table)])
        evidence = read_parquet(store, *parse_s3_uri(result.metadata["failure_cases"].value))
        kept = {k: v.value for k, v in result.metadata.items() if k != "failure_cases"}
        return kept, evidence.sort("check", "index")

    whole = check(frame, "whole")
    chunked = check(lambda: [frame[0:3], frame[3:7], frame[7:]], "chunked")
    assert whole[0] == chunked[0] and whole[1].equals(chunked[1])
    assert whole[0]["failures_by_check"] == {
        "iot_rain_reading: rainfall_mm: in_range(0, 150)": 2,
        "iot_rain_reading: iot_rain_reading: multiple_fields_uniqueness": 8,
    }
    missing = frame.drop("rainfall_mm")  # a schema-level failure: reported once, not once a chunk
    assert check(missing, "missing")[0] == check(lambda: [missing[0:5], missing[5:]], "missing-chunked")[0]

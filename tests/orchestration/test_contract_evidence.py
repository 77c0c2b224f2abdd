"""A failed contract check keeps Pandera's failure cases in S3, links them and names each rule broken."""

from __future__ import annotations

from datetime import date

import dagster as dg
import polars as pl
import pytest

from cityplatform.objectstore import QUARANTINE, ObjectStore, parse_s3_uri, read_parquet
from governance.contracts.cctv import CCTV_SCHEMAS
from orchestration.defs.cctv.assets import COUNTS
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

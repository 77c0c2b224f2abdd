"""A failed contract check keeps Pandera's failure cases in S3 and links them from its metadata."""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

from cityplatform.objectstore import (
    BRONZE,
    QUARANTINE,
    ObjectStore,
    parquet_bytes,
    parse_s3_uri,
    read_parquet,
)
from orchestration.defs.cctv.assets import COUNTS, _contract_check

pytestmark = pytest.mark.integration


def check_of(store: ObjectStore, frame: pl.DataFrame, clip: str) -> dg.AssetCheckResult:
    key = f"cctv/counts/date=2026-11-24/camera=cam-01/hour=08/{clip}.parquet"
    store.put_bytes(BRONZE, key, parquet_bytes(frame))
    result = dg.MaterializeResult(
        asset_key=COUNTS, metadata={"path": dg.MetadataValue.path(f"s3://{BRONZE}/{key}")}
    )
    return _contract_check(store, result, clip)


def test_failure_cases_are_written_to_quarantine_and_linked(store: ObjectStore) -> None:
    check = check_of(
        store, pl.DataFrame({"camera_id": ["cam-01"], "crossings": [-3]}), "cam-01_20261124T080000"
    )
    assert not check.passed
    uri = check.metadata["failure_cases"].value
    bucket, key = parse_s3_uri(uri)
    assert (
        bucket == QUARANTINE and key == "contract-failures/cctv/derived/counts/cam-01_20261124T080000.parquet"
    )
    evidence = read_parquet(store, bucket, key)
    assert evidence.height == sum(check.metadata["failures_by_check"].value.values())
    assert {"column", "check", "failure_case"} <= set(evidence.columns)

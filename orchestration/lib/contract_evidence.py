"""Pandera failure cases kept in S3 when a contract check fails, so a steward can see which rows broke
which rule long after the run's logs are gone; the check's metadata links to them."""

from __future__ import annotations

import dagster as dg
import polars as pl

from cityplatform.layout import contract_failures_key
from cityplatform.objectstore import QUARANTINE, ObjectStore, parquet_bytes


def keep_failure_cases(
    store: ObjectStore, asset_key: dg.AssetKey, partition: str, failure_cases: pl.DataFrame
) -> dg.MetadataValue:
    """Write the failure cases (values as text: a failure can be of any type) and link to them."""
    key = contract_failures_key(asset_key.to_user_string(), partition)
    as_text = failure_cases.select(pl.all().cast(pl.String, strict=False))
    store.put_bytes(QUARANTINE, key, parquet_bytes(as_text))
    return dg.MetadataValue.path(f"s3://{QUARANTINE}/{key}")

"""Names by the OpenLineage naming conventions, so our events join up with other producers' in Marquez.

Datasets in object storage: namespace ``s3://<bucket>``, name = the object prefix (no trailing slash:
a partitioned dataset is one dataset, its partitions are not). Tables in the DuckDB warehouse: as
OpenLineage's dbt integration names them (``openlineage.common.provider.dbt``, adapter ``duckdb``):
namespace ``duckdb://<the profile's path>``, the warehouse file (``CITY_WAREHOUSE_PATH``, which the
platform's dbt profile reads), name ``<database>.<schema>.<table>``. Jobs: namespace from
``OPENLINEAGE_NAMESPACE`` (default ``smart-city``), name = the Dagster asset key.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

from openlineage.client.naming.dataset import S3, LocalFileSystem

from cityplatform.objectstore import parse_s3_uri
from cityplatform.settings import load_settings

DEFAULT_JOB_NAMESPACE = "smart-city"
PRODUCER = "urn:smart-city-platform:governance.lineage"


@dataclass(frozen=True, order=True)
class DatasetId:
    """A dataset as OpenLineage identifies it."""

    namespace: str
    name: str

    @property
    def uri(self) -> str:
        """``namespace/name``; a whole bucket (name ``/``) reads ``s3://bucket/``."""
        return f"{self.namespace}/{self.name.lstrip('/')}"


def job_namespace() -> str:
    return os.environ.get("OPENLINEAGE_NAMESPACE") or DEFAULT_JOB_NAMESPACE


def dataset_from_uri(uri: str) -> DatasetId:
    """``s3://bucket/prefix/`` -> ``DatasetId("s3://bucket", "prefix")``; a whole bucket is named ``/``."""
    bucket, key = parse_s3_uri(uri)
    naming = S3(bucket_name=bucket, object_key=key.rstrip("/") or "/")
    return DatasetId(naming.get_namespace(), naming.get_name())


def dataset_from_location(location: str) -> DatasetId:
    """An ``s3://`` object, or a local file (namespace ``file``, its absolute path), e.g. model weights."""
    if location.startswith("s3://"):
        return dataset_from_uri(location)
    naming = LocalFileSystem(path=os.path.abspath(location))
    return DatasetId(naming.get_namespace(), naming.get_name())


def warehouse_namespace() -> str:
    """``duckdb://`` and the warehouse file's path, as the dbt integration names a DuckDB profile."""
    return f"duckdb://{load_settings().warehouse_path}"


def warehouse_dataset(relation: str) -> DatasetId:
    """A warehouse relation ``database.schema.table`` (as dbt and dagster-dbt name it)."""
    return DatasetId(warehouse_namespace(), relation.replace('"', "").lower())


def child_run_id(parent_run_id: str, job_name: str, attempt: int = 0) -> str:
    """The OpenLineage run id of one job inside a Dagster run: stable, so START and COMPLETE agree
    even when emitted from different processes, and distinct per retry attempt."""
    return str(uuid.uuid5(uuid.UUID(parent_run_id), f"{job_name}#{attempt}"))

"""Standard OpenLineage facets built from what the platform knows about a dataset and a run.

Everything here uses the client's facet classes and the spec's standard facets only, so Marquez and
any other consumer understand every facet, and every facet validates against the published schema.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import attr
from openlineage.client.constants import __version__ as client_version
from openlineage.client.facet_v2 import (
    DatasetFacet,
    JobFacet,
    OutputDatasetFacet,
    RunFacet,
    data_quality_assertions_dataset,
    data_quality_metrics_dataset,
    dataset_version_dataset,
    documentation_dataset,
    error_message_run,
    job_type_job,
    lifecycle_state_change_dataset,
    nominal_time_run,
    output_statistics_output_dataset,
    ownership_dataset,
    parent_run,
    processing_engine_run,
    schema_dataset,
    tags_dataset,
)

from governance.lineage.naming import PRODUCER

PERSONAL = "personal"
REGISTRY_SOURCE = "governance-registry"
COLUMN_LINEAGE_SOURCE = "column-lineage"  # a pii tag derived through dbt column lineage
OWNERSHIP_SOURCE = "ownership_source"  # tag: where the owners came from (ledger, or why not)
LEDGER_UNREADABLE = "registry (ledger unreadable: {})"  # that source when the ledger could not be read


@dataclass(frozen=True)
class Column:
    name: str
    type: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Stewardship:
    """Who answers for a dataset and how it is classified, as the registry (and ledger) say."""

    owners: Sequence[tuple[str, str]]  # (role, e-mail or "team:<name>"): ("steward", ...), ("deputy", ...)
    classification: str | None = None
    department: str | None = None
    retention_days: int | None = None
    personal_columns: Sequence[str] = ()  # the registry's; none listed: every column of personal data
    derived_personal: Sequence[str] = ()  # columns passing on a personal column (dbt column lineage)
    ownership_source: str | None = None  # the ledger the owners come from, or why only the registry


@attr.define
class DataQualityMetrics(data_quality_metrics_dataset.DataQualityMetricsDatasetFacet):
    """The client's metrics facet (1-0-1) declared as 1-0-0, the version in the vendored spec:
    1-0-1 only adds ``captureDate``, which we never set, so the content is valid for both."""

    @staticmethod
    def _get_schema() -> str:
        return (
            "https://openlineage.io/spec/facets/1-0-0/DataQualityMetricsDatasetFacet.json"
            "#/$defs/DataQualityMetricsDatasetFacet"
        )


def merge_columns(*tables: Iterable[Column]) -> list[Column]:
    """One schema for a dataset stored as several tables (bronze readings: one per sensor kind)."""
    merged: dict[str, Column] = {}
    for table in tables:
        for column in table:
            merged.setdefault(column.name, column)
    return list(merged.values())


def schema_facet(columns: Sequence[Column]) -> schema_dataset.SchemaDatasetFacet:
    return schema_dataset.SchemaDatasetFacet(
        fields=[
            schema_dataset.SchemaDatasetFacetFields(
                name=c.name, type=c.type, description=c.description, ordinal_position=i
            )
            for i, c in enumerate(columns, start=1)
        ],
        producer=PRODUCER,
    )


def governance_facets(stewardship: Stewardship, columns: Sequence[str]) -> dict[str, DatasetFacet]:
    """Ownership and classification tags. A dataset classified ``personal`` is tagged PII, and so is
    each of its personal columns (the registry's ``personal_columns``, else every column) in the tags
    facet's column-level form (``field``), so consumers can mask or refuse exactly those; so is each
    column derived from one (``derived_personal``, source ``column-lineage``), whatever the dataset's
    classification. Where the owners came from is a tag too (``ownership_source``): owners taken from
    the registry alone because the ledger could not be read say so, never pass for the ledger's."""
    owners = [
        ownership_dataset.Owner(name=owner if ":" in owner else f"user:{owner}", type=role)
        for role, owner in stewardship.owners
    ]
    labels = {
        "classification": stewardship.classification,
        "department": stewardship.department,
        "retention_days": None if stewardship.retention_days is None else str(stewardship.retention_days),
        OWNERSHIP_SOURCE: stewardship.ownership_source,
    }
    tags = [
        tags_dataset.TagsDatasetFacetFields(key, value, REGISTRY_SOURCE)
        for key, value in labels.items()
        if value is not None
    ]
    if stewardship.classification == PERSONAL:
        tags.append(tags_dataset.TagsDatasetFacetFields("pii", "true", REGISTRY_SOURCE))
        tags += [
            tags_dataset.TagsDatasetFacetFields("pii", "true", REGISTRY_SOURCE, column)
            for column in stewardship.personal_columns or columns
        ]
    tagged = {t.field for t in tags if t.field}
    derived = [c for c in stewardship.derived_personal if c not in tagged]
    if derived and stewardship.classification != PERSONAL:
        tags.append(tags_dataset.TagsDatasetFacetFields("pii", "true", COLUMN_LINEAGE_SOURCE))
    tags += [tags_dataset.TagsDatasetFacetFields("pii", "true", COLUMN_LINEAGE_SOURCE, c) for c in derived]
    result: dict[str, DatasetFacet] = {"tags": tags_dataset.TagsDatasetFacet(tags=tags, producer=PRODUCER)}
    if owners:
        result["ownership"] = ownership_dataset.OwnershipDatasetFacet(owners=owners, producer=PRODUCER)
    return result


def documentation_facet(description: str) -> documentation_dataset.DocumentationDatasetFacet:
    return documentation_dataset.DocumentationDatasetFacet(
        description=description, contentType="text/markdown", producer=PRODUCER
    )


def statistics_facets(
    row_count: int | None, size: int | None = None, file_count: int | None = None
) -> tuple[dict[str, DatasetFacet], dict[str, OutputDatasetFacet]]:
    """Row counts as data-quality metrics (dataset facet) and output statistics (output facet)."""
    metrics = DataQualityMetrics(
        columnMetrics={}, rowCount=row_count, bytes=size, fileCount=file_count, producer=PRODUCER
    )
    stats = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
        rowCount=row_count, size=size, fileCount=file_count, producer=PRODUCER
    )
    return {"dataQualityMetrics": metrics}, {"outputStatistics": stats}


def assertions_facet(
    assertions: Sequence[data_quality_assertions_dataset.Assertion],
) -> data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet:
    return data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
        assertions=list(assertions), producer=PRODUCER
    )


def version_facet(version: str) -> dataset_version_dataset.DatasetVersionDatasetFacet:
    """The version of a dataset a run read, e.g. the sha256 of the model weights it ran."""
    return dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=version, producer=PRODUCER)


def lifecycle_facet(
    change: lifecycle_state_change_dataset.LifecycleStateChange,
) -> lifecycle_state_change_dataset.LifecycleStateChangeDatasetFacet:
    """How a run changed a dataset's life (e.g. TRUNCATE: retention deleted some of its objects)."""
    return lifecycle_state_change_dataset.LifecycleStateChangeDatasetFacet(
        lifecycleStateChange=change, producer=PRODUCER
    )


def parent_facet(namespace: str, job_name: str, run_id: str) -> parent_run.ParentRunFacet:
    return parent_run.ParentRunFacet(
        run=parent_run.Run(runId=run_id),
        job=parent_run.Job(namespace=namespace, name=job_name),
        producer=PRODUCER,
    )


def nominal_time_facet(start: str, end: str | None) -> nominal_time_run.NominalTimeRunFacet:
    return nominal_time_run.NominalTimeRunFacet(nominalStartTime=start, nominalEndTime=end, producer=PRODUCER)


def error_facet(error: BaseException) -> error_message_run.ErrorMessageRunFacet:
    return error_message_run.ErrorMessageRunFacet(
        message=f"{type(error).__name__}: {error}",
        programmingLanguage="python",
        stackTrace="".join(traceback.format_exception(error)),
        producer=PRODUCER,
    )


def engine_facets(engine: str, version: str) -> dict[str, RunFacet]:
    return {
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version=version, name=engine, openlineageAdapterVersion=client_version, producer=PRODUCER
        )
    }


def job_type_facets(integration: str, job_type: str) -> dict[str, JobFacet]:
    return {
        "jobType": job_type_job.JobTypeJobFacet(
            processingType="BATCH", integration=integration, jobType=job_type, producer=PRODUCER
        )
    }

"""Events built by the emitter are valid OpenLineage; the validator rejects what the spec rejects."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandera.errors
import polars as pl
import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, OutputDataset, RunState
from openlineage.client.transport.file import FileConfig, FileTransport

from governance.contracts.iot import reading_schema, validate_readings
from governance.lineage import facets
from governance.lineage.events import JobRun, LineageEmitter
from governance.lineage.naming import DatasetId, child_run_id, dataset_from_uri
from governance.lineage.quality import rule_assertion, rule_outcomes
from tests.lineage_spec import InvalidLineageEvent, event_errors, validate_event

STEWARDS = facets.Stewardship(
    owners=[("steward", "kim@city.example"), ("deputy", "lee@city.example")],
    classification="internal",
    department="environment",
    retention_days=400,
)


def bad_rain_readings() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sensor_id": ["RG-0001", "RG-0001", "XX-9"],
            "kind": ["rain"] * 3,
            "observed_at": [datetime(2026, 3, 14, tzinfo=UTC)] * 3,
            "rainfall_mm": [1.0, -3.0, 2.0],
        }
    )


def failure_cases() -> pl.DataFrame:
    with pytest.raises(pandera.errors.SchemaErrors) as caught:
        validate_readings("rain", bad_rain_readings())
    return caught.value.failure_cases


def emitted(tmp_path: Path) -> list[dict[str, Any]]:
    """START, COMPLETE and FAIL of one job with every facet we use, through the client's file transport."""
    path = tmp_path / "events.jsonl"
    emitter = LineageEmitter(OpenLineageClient(transport=FileTransport(FileConfig(str(path), append=True))))
    parent_id = str(uuid.uuid4())
    run = JobRun(
        "iot/bronze/readings",
        child_run_id(parent_id, "iot/bronze/readings"),
        run_facets={
            "parent": facets.parent_facet("smart-city", "iot_ingest_day", parent_id),
            "nominalTime": facets.nominal_time_facet(
                "2026-03-14T00:00:00+09:00", "2026-03-15T00:00:00+09:00"
            ),
            **facets.engine_facets("Dagster", "1.13.27"),
        },
        job_facets=facets.job_type_facets("DAGSTER", "ASSET"),
    )
    schema = reading_schema("rain")
    columns = [facets.Column(n, str(c.dtype), c.description) for n, c in schema.columns.items()]
    metrics, stats = facets.statistics_facets(row_count=3, size=1234, file_count=1)
    dataset = dataset_from_uri("s3://bronze/iot/readings/")
    output = OutputDataset(
        dataset.namespace,
        dataset.name,
        facets={
            "schema": facets.schema_facet(columns),
            "documentation": facets.documentation_facet("Contract-valid readings."),
            **facets.governance_facets(STEWARDS, [c.name for c in columns]),
            **metrics,
        },
        outputFacets=stats,
    )
    # assertions are an input facet (the spec's only place for them): what the run found in its input
    assertions = facets.assertions_facet(pandera_assertions(reading_schema("rain"), failure_cases()))
    inputs = [InputDataset("s3://landing", "iot", inputFacets={"dataQualityAssertions": assertions})]
    emitter.emit(RunState.START, run, inputs, [output])
    emitter.emit(RunState.COMPLETE, run, inputs, [output])
    try:
        raise RuntimeError("S3 went away")
    except RuntimeError as error:
        emitter.emit(RunState.FAIL, run, inputs, [output], {"errorMessage": facets.error_facet(error)})
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def events(tmp_path: Path) -> list[dict[str, Any]]:
    return emitted(tmp_path)


def test_every_emitted_event_and_facet_validates_against_the_spec(events: list[dict[str, Any]]) -> None:
    assert [e["eventType"] for e in events] == ["START", "COMPLETE", "FAIL"]
    for event in events:
        assert event_errors(event) == []
    facet_keys = (
        set(events[2]["run"]["facets"])
        | set(events[1]["outputs"][0]["facets"])
        | set(events[1]["inputs"][0]["inputFacets"])
    )
    assert {"parent", "nominalTime", "processing_engine", "errorMessage", "schema", "ownership", "tags"} <= (
        facet_keys
    )
    assert {"documentation", "dataQualityAssertions", "dataQualityMetrics"} <= facet_keys


def test_names_follow_the_openlineage_conventions(events: list[dict[str, Any]]) -> None:
    output = events[1]["outputs"][0]
    assert (output["namespace"], output["name"]) == ("s3://bronze", "iot/readings")
    assert events[1]["job"] == {
        "namespace": "smart-city",
        "name": "iot/bronze/readings",
        "facets": events[1]["job"]["facets"],
    }
    assert events[0]["run"]["runId"] == events[1]["run"]["runId"] == events[2]["run"]["runId"]


@pytest.mark.parametrize(
    ("path", "value", "complaint"),
    [
        (("run", "runId"), "run-42", "is not a 'uuid'"),
        (("eventTime",), "yesterday", "is not a 'date-time'"),
        (("eventType",), "DONE", "is not one of"),
        (("job",), {"namespace": "smart-city"}, "'name' is a required property"),
        (("outputs", 0, "facets", "schema", "fields", 0, "name"), 7, "is not of type 'string'"),
        (("outputs", 0, "facets", "ownership", "owners", 0), {"type": "steward"}, "'name' is a required"),
        (
            ("inputs", 0, "inputFacets", "dataQualityAssertions", "assertions", 0, "success"),
            "yes",
            "not of type",
        ),
        (("run", "facets", "parent", "run", "runId"), "dagster-run", "is not a 'uuid'"),
        (("outputs", 0, "outputFacets", "outputStatistics", "rowCount"), -0.5, "is not of type 'integer'"),
    ],
)
def test_the_validator_rejects_what_the_spec_rejects(
    events: list[dict[str, Any]], path: tuple[str | int, ...], value: object, complaint: str
) -> None:
    event = copy.deepcopy(events[1])
    target: Any = event
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(InvalidLineageEvent, match=complaint):
        validate_event(event)


def test_a_facet_the_spec_does_not_define_is_an_error(events: list[dict[str, Any]]) -> None:
    event = copy.deepcopy(events[1])
    facet = event["outputs"][0]["facets"]
    facet["custom"] = {**facet["documentation"], "_schemaURL": "https://example.org/Custom.json#/$defs/X"}
    facet["docs"] = facet.pop("documentation")  # a standard facet under the wrong key
    errors = event_errors(event)
    assert any("custom: no schema in the vendored spec" in e for e in errors)
    assert any("under another key than 'docs'" in e for e in errors)


def pandera_assertions(schema: Any, cases: pl.DataFrame | None = None) -> list[Any]:
    """One assertion per rule of ``schema``, as lineage reports a contract check's ``contract_rules``."""
    return [rule_assertion(outcome) for outcome in rule_outcomes(schema, cases)]


def test_pandera_results_become_one_assertion_per_rule() -> None:
    assertions = {(a.column, a.name): a for a in pandera_assertions(reading_schema("rain"), failure_cases())}
    assert assertions[("rainfall_mm", "in_range(0, 150)")].success is False
    assert assertions[("rainfall_mm", "in_range(0, 150)")].actual == "1 failing rows"
    assert assertions[("sensor_id", r"str_matches('^RG-\d{4}$')")].success is False
    assert assertions[(None, "multiple_fields_uniqueness")].success is False
    assert assertions[("rainfall_mm", "not_nullable")].success is True
    assert assertions[("kind", "isin(['rain'])")].success is True
    assert all(a.success for a in pandera_assertions(reading_schema("rain")))


def test_every_column_of_personal_data_is_tagged_pii() -> None:
    personal = facets.Stewardship([("steward", "kim@city.example")], classification="personal")
    tags = facets.governance_facets(personal, ["camera_id", "track_id"])["tags"].tags
    assert {t.field for t in tags if t.key == "pii"} == {None, "camera_id", "track_id"}
    internal = facets.governance_facets(STEWARDS, ["camera_id"])["tags"].tags
    assert not [t for t in internal if t.key == "pii"]
    assert {(t.key, t.value) for t in internal} >= {
        ("classification", "internal"),
        ("department", "environment"),
    }


def test_s3_datasets_are_named_by_bucket_and_prefix() -> None:
    assert dataset_from_uri("s3://bronze/iot/readings/") == DatasetId("s3://bronze", "iot/readings")
    assert dataset_from_uri("s3://bronze/iot/registry/sensors.parquet").name == "iot/registry/sensors.parquet"
    whole_bucket = dataset_from_uri("s3://marts-traffic/")
    assert (whole_bucket.name, whole_bucket.uri) == ("/", "s3://marts-traffic/")


def test_child_run_ids_are_stable_per_job_and_attempt() -> None:
    parent = str(uuid.uuid4())
    first = child_run_id(parent, "iot/raw/readings")
    assert first == child_run_id(parent, "iot/raw/readings")
    assert (
        len({first, child_run_id(parent, "iot/bronze/readings"), child_run_id(parent, "iot/raw/readings", 1)})
        == 3
    )
    uuid.UUID(first)

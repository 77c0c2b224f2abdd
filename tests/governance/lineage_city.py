"""Lineage events emitted as the platform's assets emit them, for the lineage review's tests.

Events go through the real OpenLineage client's file transport into ``<CITY_HOME>/lineage``, where
the platform's default ``local`` transport writes them, built by the platform's own facet and
assertion builders: the contract rules (``rule_assertion``), Dagster check results
(``check_assertion``, a ``steward_trained`` that warns included), dbt test results
(``dbt_test_assertion``). ``emit_platform`` emits the platform's whole shape: every model of the real
dbt project (its ``depends_on``, its tests), the Python assets around it and the publications, each
owned and classified as the real registry says, so that pages are judged on the graph stewards see.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, OutputDataset, RunState
from openlineage.client.facet_v2 import column_lineage_dataset as cl
from openlineage.client.facet_v2 import data_quality_assertions_dataset as dqa
from openlineage.client.transport.file import FileConfig, FileTransport

from governance.lineage import facets
from governance.lineage.dbt import dbt_test_assertion, tested_node
from governance.lineage.events import JobRun, LineageEmitter
from governance.lineage.naming import DatasetId, warehouse_dataset
from governance.lineage.quality import RuleOutcome, rule_assertion
from governance.registry.departments import load_departments
from governance.registry.registry import Registry
from orchestration.defs.governance.checks import CHECK_NAME, DESCRIPTION
from orchestration.defs.marts.assets import layer_and_name
from orchestration.lib.dbt import MARTS_PROJECT
from orchestration.lib.lineage import check_assertion

STEWARDS = facets.Stewardship(
    [("steward", "kim@city.example"), ("deputy", "lee@city.example")], "internal", "traffic"
)


def check(key: str, name: str, passed: bool, warn: bool = False) -> dqa.Assertion:
    """A Dagster asset check's result as lineage reports it."""
    severity = dg.AssetCheckSeverity.WARN if warn else dg.AssetCheckSeverity.ERROR
    result = dg.AssetCheckResult(
        asset_key=dg.AssetKey(key.split("/")), check_name=name, passed=passed, severity=severity
    )
    return check_assertion(result, name, DESCRIPTION if name == CHECK_NAME else None)


def contract_rules(contract: str, columns: Sequence[str], failing: str | None = None) -> list[dqa.Assertion]:
    """The rules a contract check reports, three per column; ``failing`` breaks one column's range."""
    return [
        rule_assertion(
            RuleOutcome(contract, kind, rule, column, 3 if column == failing and kind == "in_range" else 0)
        )
        for column in columns
        for kind, rule in (
            ("dtype", "dtype('Float64')"),
            ("not_null", "not_nullable"),
            ("in_range", "in_range(0, 500)"),
        )
    ]


def column_lineage(fields: dict[str, tuple[DatasetId, str, str]]) -> cl.ColumnLineageDatasetFacet:
    """The ``columnLineage`` facet: output column -> (upstream dataset, its column, subtype)."""
    return cl.ColumnLineageDatasetFacet(
        fields={
            column: cl.Fields(
                inputFields=[
                    cl.InputField(
                        dataset.namespace,
                        dataset.name,
                        field,
                        transformations=[cl.Transformation(type="DIRECT", subtype=subtype)],
                    )
                ]
            )
            for column, (dataset, field, subtype) in fields.items()
        }
    )


class City:
    """Emits the events of a city's jobs, as the platform's assets would."""

    def __init__(self, lineage_dir: Path) -> None:
        lineage_dir.mkdir(parents=True, exist_ok=True)
        transport = FileTransport(FileConfig(str(lineage_dir / "events-2026-03-14.jsonl"), append=True))
        self.emitter = LineageEmitter(OpenLineageClient(transport=transport))

    def run(
        self,
        job: str,
        inputs: Sequence[DatasetId],
        output: DatasetId | Sequence[DatasetId],
        checks: Sequence[dqa.Assertion] | dict[str, bool] = (),
        end: RunState = RunState.COMPLETE,
        stewardship: facets.Stewardship = STEWARDS,
        columns: Sequence[str] = ("sensor_id",),
        column_lineage: cl.ColumnLineageDatasetFacet | None = None,
    ) -> None:
        """START, then ``end``: what one materialisation of the asset ``job`` emits (of its one
        dataset, or each of several: a department's published marts)."""
        outputs = [output] if isinstance(output, DatasetId) else list(output)
        if isinstance(checks, dict):
            checks = [check(job, name, ok) for name, ok in checks.items()]
        final: dict[str, Any] = {
            **facets.governance_facets(stewardship, list(columns)),
            "schema": facets.schema_facet([facets.Column(c, "VARCHAR") for c in columns]),
        }
        if column_lineage:
            final["columnLineage"] = column_lineage
        run = JobRun(job, str(uuid.uuid4()))
        sources = [InputDataset(d.namespace, d.name) for d in inputs]
        self.emitter.emit(RunState.START, run, sources, [OutputDataset(o.namespace, o.name) for o in outputs])
        written = [OutputDataset(o.namespace, o.name, facets=final) for o in outputs]
        self.emitter.emit(end, run, sources, written)
        if checks and end is RunState.COMPLETE:  # judged in the step, after its COMPLETE
            for dataset in outputs:
                self.judge(f"{job}:contract", dataset, *checks)

    def judge(self, job: str, dataset: DatasetId, *assertions: dqa.Assertion) -> None:
        """A check judged in a run of its own that reads the dataset (each check, a dbt test)."""
        tested = InputDataset(
            dataset.namespace,
            dataset.name,
            inputFacets={"dataQualityAssertions": facets.assertions_facet(list(assertions))},
        )
        run = JobRun(job, str(uuid.uuid4()))
        self.emitter.emit(RunState.START, run, [tested])
        self.emitter.emit(RunState.COMPLETE, run, [tested])

    def test(self, job: str, dataset: DatasetId, passed: bool) -> None:
        self.judge(job, dataset, dqa.Assertion(assertion="not_null", success=passed, name=job))


# The Python assets around the dbt project: key -> (dataset, the keys it reads).
PYTHON_ASSETS: dict[str, tuple[DatasetId, tuple[str, ...]]] = {
    "iot/raw/readings": (DatasetId("s3://landing", "iot"), ()),
    "iot/bronze/readings": (DatasetId("s3://bronze", "iot/readings"), ("iot/raw/readings",)),
    "iot/quarantine/readings": (DatasetId("s3://quarantine", "iot/readings"), ("iot/raw/readings",)),
    "iot/bronze/sensor_registry": (DatasetId("s3://bronze", "iot/registry/sensors.parquet"), ()),
    "iot/bronze/districts": (DatasetId("s3://bronze", "iot/registry/districts.parquet"), ()),
    "iot/bronze/road_segments": (DatasetId("s3://bronze", "iot/registry/road_segments.parquet"), ()),
    "iot/bronze/river_gauges": (DatasetId("s3://bronze", "iot/registry/river_gauges.parquet"), ()),
    "cctv/raw/clips": (DatasetId("s3://landing", "cctv"), ()),
    "cctv/derived/detections": (DatasetId("s3://bronze", "cctv/detections"), ("cctv/raw/clips",)),
    "cctv/derived/counts": (DatasetId("s3://bronze", "cctv/counts"), ("cctv/derived/detections",)),
    "cctv/derived/coverage": (DatasetId("s3://bronze", "cctv/coverage"), ("cctv/raw/clips",)),
    "cctv/derived/zone_occupancy": (
        DatasetId("s3://bronze", "cctv/zone_occupancy"),
        ("cctv/derived/detections",),
    ),
}
WARNS = "marts/traffic/fct_segment_traffic_hourly"  # steward_trained warns: a training expires soon
FAILS = "cctv/derived/detections"  # steward_trained fails: no owner trained for personal data
HOURLY = "marts/traffic/fct_segment_traffic_hourly"


def stewardship(registry: Registry, key: str) -> facets.Stewardship:
    owner = registry.ownership[key]
    emails = [
        ("steward", registry.staff[owner.steward].email),
        ("deputy", registry.staff[owner.deputy].email),
    ]
    return facets.Stewardship(emails, owner.classification, owner.department, owner.retention_days)


def _model_key(node: dict[str, Any]) -> str:
    """``marts/<layer or department>/<model>``, as the platform's dbt translator names the models."""
    return "/".join(("marts", *layer_and_name(node["fqn"], node["resource_type"])))


def emit_platform(lineage_dir: Path, registry: Registry) -> dict[str, DatasetId]:
    """The platform's lineage, one materialisation of everything; the dataset of each asset key (a
    department's publication: its first mart's, of the one dataset per mart it writes)."""
    city = City(lineage_dir)
    manifest = json.loads(MARTS_PROJECT.manifest_path.read_text())
    datasets = {key: dataset for key, (dataset, _) in PYTHON_ASSETS.items()}
    models = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot")
    }
    for node in models.values():
        datasets[_model_key(node)] = warehouse_dataset(f"warehouse.{node['schema']}.{node['name']}")
    published: dict[str, list[DatasetId]] = {}
    for department in load_departments():
        marts = sorted(n["name"] for n in models.values() if n["fqn"][1:3] == ["marts", department.id])
        if marts:
            key = f"marts/published/{department.id}"
            published[key] = [DatasetId(f"s3://{department.bucket}", mart) for mart in marts]
            datasets[key] = published[key][0]

    def source_key(uid: str) -> str:
        if uid in models:
            return _model_key(models[uid])
        return "/".join(manifest["sources"][uid]["meta"]["dagster"]["asset_key"])

    def verdict(key: str) -> dqa.Assertion:
        return check(key, CHECK_NAME, passed=key not in (WARNS, FAILS), warn=key == WARNS)

    for key, (dataset, reads) in PYTHON_ASSETS.items():
        columns = ["sensor_id", "observed_at", "value"]
        own = [check(key, "contract", True), *contract_rules(key, columns)] if "bronze" in key else []
        city.run(
            key,
            [datasets[r] for r in reads],
            dataset,
            own,
            stewardship=stewardship(registry, key),
            columns=columns,
        )
    for node in models.values():
        key = _model_key(node)
        reads = [
            datasets[source_key(parent)]
            for parent in node["depends_on"].get("nodes", [])
            if not parent.startswith("macro.")
        ]
        columns = list(node["columns"]) or ["id"]
        # as governance.lineage.dbt derives it from the compiled SQL: here, each column passed through
        lineage = column_lineage({c: (reads[0], c, "IDENTITY") for c in columns}) if key == HOURLY else None
        city.run(
            key,
            reads,
            datasets[key],
            stewardship=stewardship(registry, key),
            columns=columns,
            column_lineage=lineage,
        )
    for key, outputs in published.items():
        marts = [k for k in datasets if k.startswith(f"marts/{key.rsplit('/', 1)[-1]}/")]
        city.run(
            key,
            [datasets[m] for m in marts],
            outputs,
            stewardship=stewardship(registry, key),
            columns=["mart"],
        )
    for uid, node in manifest["nodes"].items():
        attached = tested_node(manifest, uid) if node["resource_type"] == "test" else None
        if attached in models:
            key = _model_key(models[attached])
            city.judge(f"{key}:{node['name']}", datasets[key], dbt_test_assertion(manifest, uid, "pass", 0))
    for key, dataset in datasets.items():
        for judged in published.get(key, [dataset]):
            city.judge(f"{key}:{CHECK_NAME}", judged, verdict(key))
    return datasets

"""Lineage review from emitted events: the graph, `city lineage --source file`, and the HTML report.

Events go through the client's real file transport into ``<CITY_HOME>/lineage``, exactly where the
platform's default ``local`` transport writes them; no S3 server is needed.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, OutputDataset, RunState
from openlineage.client.facet_v2 import data_quality_assertions_dataset as dqa
from openlineage.client.transport.file import FileConfig, FileTransport
from typer.testing import CliRunner

from cityapp.cli.main import app
from governance.lineage import facets
from governance.lineage.events import JobRun, LineageEmitter
from governance.lineage.graph import LineageGraph
from governance.lineage.history import file_events
from governance.lineage.naming import DatasetId
from governance.lineage.report import render_html

STEWARDS = facets.Stewardship([("steward", "kim@city.example"), ("deputy", "lee@city.example")], "internal")
LANDING, BRONZE, MART, OTHER = (
    DatasetId("s3://landing", "iot"),
    DatasetId("s3://bronze", "iot/readings"),
    DatasetId("s3://marts-traffic", "fct_traffic"),
    DatasetId("s3://landing", "other"),
)


class City:
    """Emits the events of a small pipeline, as the platform's assets would."""

    def __init__(self, lineage_dir: Path) -> None:
        lineage_dir.mkdir(parents=True, exist_ok=True)
        transport = FileTransport(FileConfig(str(lineage_dir / "events-2026-03-14.jsonl"), append=True))
        self.emitter = LineageEmitter(OpenLineageClient(transport=transport))

    def run(
        self,
        job: str,
        inputs: list[DatasetId],
        output: DatasetId,
        checks: dict[str, bool] | None = None,
        end: RunState = RunState.COMPLETE,
    ) -> None:
        run = JobRun(job, str(uuid.uuid4()))
        final = {
            **facets.governance_facets(STEWARDS, ["sensor_id"]),
            "dataQualityAssertions": facets.assertions_facet(
                [dqa.Assertion(assertion=name, success=ok, name=name) for name, ok in (checks or {}).items()]
            ),
        }
        sources = [InputDataset(d.namespace, d.name) for d in inputs]
        self.emitter.emit(RunState.START, run, sources, [OutputDataset(output.namespace, output.name)])
        self.emitter.emit(end, run, sources, [OutputDataset(output.namespace, output.name, facets=final)])

    def test(self, job: str, dataset: DatasetId, passed: bool) -> None:
        tested = InputDataset(
            dataset.namespace,
            dataset.name,
            inputFacets={
                "dataQualityAssertions": facets.assertions_facet(
                    [dqa.Assertion(assertion="not_null", success=passed, name=job)]
                )
            },
        )
        run = JobRun(job, str(uuid.uuid4()))
        self.emitter.emit(RunState.START, run, [tested])
        self.emitter.emit(RunState.COMPLETE, run, [tested])


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CITY_HOME", str(tmp_path / "home"))
    city = City(tmp_path / "home" / "lineage")
    city.run("iot/raw/readings", [], LANDING)
    city.run("iot/bronze/readings", [LANDING], BRONZE, {"contract": True, "reconciliation": True})
    city.run("marts/traffic/fct_traffic", [BRONZE], MART, {"contract": True})
    city.test("test.city.not_null_fct_traffic", MART, passed=False)
    city.run("marts/traffic/fct_traffic", [BRONZE], MART, end=RunState.FAIL)
    return tmp_path / "home"


def test_the_graph_links_inputs_to_outputs_with_distances(home: Path) -> None:
    graph = LineageGraph(file_events(home / "lineage"))
    assert graph.upstream(MART) == [(1, BRONZE), (2, LANDING)]
    assert graph.downstream(LANDING) == [(1, BRONZE), (2, MART)]
    assert graph.resolve("iot/bronze/readings") == graph.resolve("s3://bronze/iot/readings/") == BRONZE


def test_a_later_failure_keeps_what_the_last_complete_said_and_tests_count_as_checks(home: Path) -> None:
    mart = LineageGraph(file_events(home / "lineage")).datasets[MART]
    assert mart.last_state == "FAIL"
    assert mart.owners == [("steward", "user:kim@city.example"), ("deputy", "user:lee@city.example")]
    assert mart.check_status == "failed"
    assert [c.name for c in mart.failed_checks] == ["test.city.not_null_fct_traffic"]


def test_a_rerun_with_other_inputs_replaces_the_old_edges(home: Path) -> None:
    City(home / "lineage").run("iot/bronze/readings", [OTHER], BRONZE)
    graph = LineageGraph(file_events(home / "lineage"))
    assert graph.upstream(BRONZE) == [(1, OTHER)]
    assert graph.downstream(LANDING) == []


def test_city_lineage_reads_the_local_files(home: Path) -> None:
    shown = CliRunner().invoke(app, ["lineage", "iot/bronze/readings", "--source", "file"])
    assert shown.exit_code == 0, shown.output
    upstream, downstream = shown.output.split("downstream")
    assert "iot/raw/readings" in upstream and "s3://landing/iot" in upstream
    assert "marts/traffic/fct_traffic" in downstream and "checks: failed" in downstream
    assert "last run: FAIL" in downstream and "steward kim@city.example" in downstream


def test_the_report_draws_every_dataset_and_marks_failed_checks(home: Path) -> None:
    written = CliRunner().invoke(app, ["lineage", "report", "--source", "file"])
    assert written.exit_code == 0, written.output
    page = (home / "reports" / "lineage.html").read_text()
    assert page.count("<svg") == 1 and page.count("<tr class=") == 3
    assert '<tr class="failed"><td>marts/traffic/fct_traffic</td>' in page
    drawing = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert all(f">{job}</text>" in drawing for job in ("iot/raw/readings", "marts/traffic/fct_traffic"))


def test_the_report_shows_markup_in_a_job_name_as_text(home: Path) -> None:
    City(home / "lineage").run("iot/<script>alert(1)</script>", [LANDING], OTHER)
    page = render_html(LineageGraph(file_events(home / "lineage")))
    assert "<script>" not in page
    table, drawing = page.split("</svg>", 1)[1], page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "<td>iot/&lt;script&gt;alert(1)&lt;/script&gt;</td>" in table
    assert ">iot/&lt;script&gt;alert(1)&lt;/script&gt;</text>" in drawing

"""The README's first command, minus the install: `city demo` on its own fresh S3 server and home.

The default run's one end-to-end test: every job of the platform on a demo-sized day, and every
lineage event that run archived valid against the OpenLineage spec, dbt models' included.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.tags import REPOSITORY_LABEL_TAG
from minio import Minio
from minio.error import S3Error
from typer.testing import CliRunner

from cityapp.cli.main import app
from cityapp.dagster_home import CODE_LOCATION, code_location_job_origin
from cityplatform.embedded_s3 import EmbeddedS3, free_port
from cityplatform.layout import mart_export_key
from cityplatform.objectstore import LINEAGE, ObjectStore
from cityplatform.settings import load_settings
from governance.lineage.graph import LineageGraph
from tests.lineage_spec import event_errors
from tests.readme import readme_snippet

pytestmark = pytest.mark.integration


def test_demo_runs_every_job_and_reports_where_the_data_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CITY_HOME", str(tmp_path / "city"))
    monkeypatch.setenv("CITY_S3_ENDPOINT", f"127.0.0.1:{free_port()}")
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    try:
        result = CliRunner().invoke(
            app, ["demo", "--day", "2026-05-05", "--sensors", "20", "--fault-rate", "0.02"]
        )
        assert result.exit_code == 0, result.output
        for expected in (
            "job iot_registry: ok",
            "job iot_ingest_day [2026-05-05]: ok",
            "job cctv_analyse_clip [cam-01_20260505T081500]: ok",
            "job cctv_analyse_clip [cam-02_20260505T183000]: ok",
            "job marts_build_day [2026-05-05]: ok",
            "job governance_scorecard: ok",
        ):
            assert expected in result.output, expected
        assert "reconciles (in = accepted + quarantined): True" in result.output
        assert "s3://bronze/iot/readings/kind=<kind>/date=2026-05-05/readings.parquet" in result.output
        log = tmp_path / "city" / "logs" / "demo-2026-05-05.log"
        assert "Running with dbt" in log.read_text() and "Running with dbt" not in result.output
        keys = json.loads((tmp_path / "city" / "secrets" / "departments.json").read_text())["traffic"]
        traffic = Minio(os.environ["CITY_S3_ENDPOINT"], keys["access_key"], keys["secret_key"], secure=False)
        hourly = mart_export_key("fct_segment_traffic_hourly", date(2026, 5, 5))
        assert traffic.stat_object("marts-traffic", hourly).size > 0  # its own marts, its own keys
        with pytest.raises(S3Error) as denied:
            next(iter(traffic.list_objects("marts-safety")))
        assert denied.value.code == "AccessDenied"
        # The README's snippet for departments, as written, with the traffic department's keys
        env = {
            **os.environ,
            "DEPARTMENT_ACCESS_KEY": keys["access_key"],
            "DEPARTMENT_SECRET_KEY": keys["secret_key"],
        }
        snippet = readme_snippet("department-read-snippet")
        read = subprocess.run([sys.executable, "-c", snippet], env=env, capture_output=True, text=True)
        assert read.returncode == 0, read.stderr
        assert "5 rows" in read.stdout and "shape: (5," in read.stdout, read.stdout  # DuckDB, polars
        other = snippet.replace('"marts-traffic"', '"marts-safety"', 1)
        denied_read = subprocess.run([sys.executable, "-c", other], env=env, capture_output=True, text=True)
        assert denied_read.returncode != 0 and "403" in denied_read.stderr, denied_read.stderr
        status = CliRunner().invoke(app, ["storage", "status", "--json"])
        assert status.exit_code == 0 and "marts-traffic" in json.loads(status.stdout)["buckets"]
        # The local instance the UI opens, queried as its job pages (job name and repository label)
        # and its Overview timeline (the run's code location) query it.
        home = InstanceRef.from_dir(str(tmp_path / "city" / "dagster"))
        with dg.DagsterInstance.from_ref(home) as instance:
            label = code_location_job_origin("x").repository_origin.get_label()
            for job in ("iot_registry", "iot_ingest_day", "cctv_analyse_clip", "marts_build_day"):
                runs = instance.get_runs(dg.RunsFilter(job_name=job, tags={REPOSITORY_LABEL_TAG: label}))
                assert runs and all(r.remote_job_origin.location_name == CODE_LOCATION for r in runs), job
        store = ObjectStore.from_settings(load_settings())
        events = [json.loads(data) for data in store.get_many(store.list_objects(LINEAGE, "events/"))]
        assert events and [e["job"]["name"] for e in events if event_errors(e)] == []
        mart = sorted(
            (e for e in events if e["job"]["name"] == "marts/traffic/fct_segment_traffic_hourly"),
            key=lambda e: e["eventTime"],
        )
        assert [e["eventType"] for e in mart] == ["START", "COMPLETE"]  # a dbt model is a run of its own
        outputs = [o for e in events for o in e.get("outputs", [])]
        assert not [o["name"] for o in outputs if "dataQualityAssertions" in o.get("facets", {})]
        assert ("s3://marts-traffic", "fct_segment_traffic_hourly") in {
            (o["namespace"], o["name"]) for o in outputs
        }
        graph = LineageGraph(events)  # every registry-personal column, and what passes one on, tagged
        assert graph.personal_columns() and graph.untagged_personal() == []
    finally:
        EmbeddedS3.from_settings(load_settings()).stop()

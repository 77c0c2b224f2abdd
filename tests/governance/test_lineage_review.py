"""Lineage review from emitted events: the graph, the focused and overview pages, and ``city lineage``.

Events go through the client's real file transport into ``<CITY_HOME>/lineage`` (``tests/governance/
lineage_city.py``), exactly where the platform's default ``local`` transport writes them; no S3 server
is needed. ``home`` is a small pipeline to check every detail on; ``platform`` is the platform's own
shape (the real dbt project and registry) to check that pages stay readable at its size.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from openlineage.client.event_v2 import RunState
from typer.testing import CliRunner, Result

from cityapp.cli.main import app
from governance.lineage import facets
from governance.lineage.graph import LineageGraph
from governance.lineage.history import file_events
from governance.lineage.naming import DatasetId
from governance.lineage.report import (
    BOX_W,
    COLUMN_PITCH,
    STATUS,
    Labels,
    focus_figure,
    overview_figure,
    render_dataset_html,
    render_overview_html,
    sections,
    svg,
)
from governance.registry.registry import Registry, load_registry
from tests.governance.lineage_city import (
    FAILS,
    HOURLY,
    WARNS,
    City,
    check,
    column_lineage,
    contract_rules,
    emit_platform,
)

LANDING, BRONZE, MART, OTHER = (
    DatasetId("s3://landing", "iot"),
    DatasetId("s3://bronze", "iot/readings"),
    DatasetId("s3://marts-traffic", "fct_traffic"),
    DatasetId("s3://landing", "other"),
)
PUBLISHED = DatasetId("s3://marts-traffic", "fct_segment_traffic_hourly")  # each mart its dataset
# The registry's people: the pages show their names, not their e-mail addresses.
CHOI = facets.Stewardship(
    [("steward", "hyunwoo.choi@city.example.kr"), ("deputy", "joonho.lee@city.example.kr")],
    "internal",
    "traffic",
)
SENSOR_COLUMNS = [f"column_{i}" for i in range(26)]  # 26 columns x 3 rules: 78 contract rules


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CITY_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CITY_DAGSTER_URL", raising=False)
    city = City(tmp_path / "home" / "lineage")
    city.run("iot/raw/readings", [], LANDING)
    # three checks of its own; the contract check reports its 78 rules besides
    readings = [
        check("iot/bronze/readings", "contract", True),
        *contract_rules("iot_readings", SENSOR_COLUMNS),
        check("iot/bronze/readings", "reconciliation", True),
    ]
    city.run("iot/bronze/readings", [LANDING], BRONZE, readings, stewardship=CHOI)
    city.judge(
        "iot/bronze/readings:steward_trained", BRONZE, check("iot/bronze/readings", "steward_trained", True)
    )
    city.run(
        "marts/traffic/fct_traffic",
        [BRONZE],
        MART,
        {"contract": True},
        stewardship=CHOI,
        columns=["sensor_id", "vehicles"],
        column_lineage=column_lineage(
            {"sensor_id": (BRONZE, "sensor_id", "IDENTITY"), "vehicles": (BRONZE, "value", "AGGREGATION")}
        ),
    )
    city.test("test.city.not_null_fct_traffic", MART, passed=False)
    city.run("marts/traffic/fct_traffic", [BRONZE], MART, end=RunState.FAIL)
    # the steward's training expires soon: a warning, not a failure
    city.run("marts/published/traffic", [MART], PUBLISHED, stewardship=CHOI, columns=["mart"])
    city.judge(
        "marts/published/traffic:steward_trained",
        PUBLISHED,
        check("marts/published/traffic", "steward_trained", False, warn=True),
    )
    return tmp_path / "home"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="module")
def labels(registry: Registry) -> Labels:
    return Labels({member.email.lower(): member.name for member in registry.staff.values()})


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory, registry: Registry) -> LineageGraph:
    lineage_dir = tmp_path_factory.mktemp("platform") / "lineage"
    emit_platform(lineage_dir, registry)
    return LineageGraph(file_events(lineage_dir))


def graph_of(home: Path) -> LineageGraph:
    return LineageGraph(file_events(home / "lineage"))


def city(*args: str, width: int = 80) -> Result:
    return CliRunner().invoke(app, ["lineage", *args, "--source", "file"], terminal_width=width)


def test_the_graph_links_inputs_to_outputs_with_distances(home: Path) -> None:
    graph = graph_of(home)
    assert graph.upstream(MART) == [(1, BRONZE), (2, LANDING)]
    assert graph.upstream(MART, hops=1) == [(1, BRONZE)]
    assert graph.downstream(LANDING) == [(1, BRONZE), (2, MART), (3, PUBLISHED)]
    assert graph.resolve("iot/bronze/readings") == graph.resolve("s3://bronze/iot/readings/") == BRONZE


@pytest.mark.parametrize(
    ("ref", "dataset"),
    [
        ("s3://bronze/iot/readings/date=2026-03-14/traffic/part-0.parquet", BRONZE),
        ("bronze/iot/readings/date=2026-03-14/traffic/part-0.parquet", BRONZE),
        ("s3://landing/iot/traffic/2026-03-14/12/reading.json", LANDING),
        ("s3://marts-traffic/fct_segment_traffic_hourly/", PUBLISHED),
        ("fct_traffic", MART),  # the last part of an asset key, when no other asset has it
        # an object a publication exported from a mart is that mart's
        ("s3://marts-traffic/fct_traffic/date=2026-03-14/fct_traffic.parquet", MART),
        # each published mart is its own dataset
        (
            "marts-traffic/fct_segment_traffic_hourly/date=2026-03-14/fct_segment_traffic_hourly.parquet",
            PUBLISHED,
        ),
    ],
)
def test_an_object_path_resolves_to_the_dataset_it_lies_in(home: Path, ref: str, dataset: DatasetId) -> None:
    assert graph_of(home).resolve(ref) == dataset


def test_a_later_failure_keeps_what_the_last_complete_said_and_tests_count_as_checks(home: Path) -> None:
    mart = graph_of(home).datasets[MART]
    assert mart.last_state == "FAIL"
    assert mart.owners == [
        ("steward", "user:hyunwoo.choi@city.example.kr"),
        ("deputy", "user:joonho.lee@city.example.kr"),
    ]
    assert mart.check_status == "failed"
    assert [c.name for c in mart.failed_checks] == ["test.city.not_null_fct_traffic"]


def test_a_dataset_counts_its_own_checks_not_its_contract_rules(home: Path) -> None:
    readings = graph_of(home).datasets[BRONZE]
    assert sorted(c.name for c in readings.checks) == ["contract", "reconciliation", "steward_trained"]
    assert len(readings.rules) == 78 and readings.check_status == "passed"
    shown = city("s3://bronze/iot/readings/date=2026-03-14/traffic/part-0.parquet")
    assert shown.exit_code == 0, shown.output
    assert "checks: passed 3/3; contract rules 78/78 met" in shown.stdout
    assert "owners: steward Choi Hyun-woo, deputy Lee Joon-ho" in shown.stdout


def test_a_warning_check_is_a_warning_not_a_failure(home: Path) -> None:
    published = graph_of(home).datasets[PUBLISHED]
    assert published.check_status == "warn" and published.failed_checks == []
    assert [c.name for c in published.warned_checks] == ["steward_trained"]
    shown = city("marts/published/traffic")
    assert "checks: warn 0/1 (warn: steward_trained)" in shown.stdout


def test_a_rerun_with_other_inputs_replaces_the_old_edges(home: Path) -> None:
    City(home / "lineage").run("iot/bronze/readings", [OTHER], BRONZE)
    graph = graph_of(home)
    assert graph.upstream(BRONZE) == [(1, OTHER)]
    assert graph.downstream(LANDING) == []


def test_city_lineage_reads_the_local_files(home: Path) -> None:
    shown = city("iot/bronze/readings", "--hops", "1")
    assert shown.exit_code == 0, shown.output
    upstream, downstream = shown.stdout.split("downstream")
    assert "iot/raw/readings" in upstream and "location: s3://landing/iot" in upstream
    assert "marts/traffic/fct_traffic" in downstream and "checks: failed 1/2" in downstream
    assert "last run: FAIL" in downstream and "1 more further away (--hops)" in downstream
    assert "Dagster: http://127.0.0.1:3000/assets/marts/traffic/fct_traffic" in downstream
    assert all(len(line) <= 80 for line in shown.stdout.splitlines())


def test_city_lineage_json_is_json_alone(home: Path) -> None:
    shown = CliRunner().invoke(
        app,
        [
            "lineage",
            "marts-traffic/fct_traffic/date=2026-03-14/fct_traffic.parquet",
            "--source",
            "file",
            "--json",
        ],
        env={"CITY_DAGSTER_URL": "https://dagster.city.example/"},
    )
    assert shown.exit_code == 0, shown.output
    about = json.loads(shown.stdout)
    assert (about["dataset"], about["status"], about["hops"]) == ("marts/traffic/fct_traffic", "failed", 2)
    assert about["dagster_url"] == "https://dagster.city.example/assets/marts/traffic/fct_traffic"
    assert [o["name"] for o in about["owners"]] == ["Choi Hyun-woo", "Lee Joon-ho"]
    assert [(u["steps"], u["dataset"]) for u in about["upstream"]] == [
        (1, "iot/bronze/readings"),
        (2, "iot/raw/readings"),
    ]
    assert [(d["dataset"], d["status"]) for d in about["downstream"]] == [("marts/published/traffic", "warn")]


def test_an_unknown_dataset_is_one_line_and_exit_2(home: Path) -> None:
    shown = city("s3://nowhere/x.parquet")
    assert shown.exit_code == 2 and shown.stdout == ""
    assert shown.stderr.startswith("error: no lineage recorded for 's3://nowhere/x.parquet'")
    assert len(shown.stderr.strip().splitlines()) == 1


def test_city_lineage_report_of_one_dataset_writes_its_focused_page(home: Path) -> None:
    written = city("report", "fct_traffic", "--hops", "1", "--json")
    assert written.exit_code == 0, written.output
    paths = json.loads(written.stdout)
    page = Path(paths["page"]).read_text()
    assert Path(paths["page"]).parent == home / "reports" / "lineage" and paths["pages"] == []
    assert page.count("<svg") == 1 and "<h2>Column lineage</h2>" in page
    assert "<td>vehicles</td><td>VARCHAR</td><td>iot/bronze/readings.value</td><td>AGGREGATION</td>" in page
    drawing = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert ">fct_traffic</text>" in drawing and ">iot/bronze/</text>" in drawing  # one step up only
    assert ">iot/raw/</text>" not in drawing


def test_the_report_is_an_overview_linked_to_a_page_per_dataset(home: Path) -> None:
    written = city("report")
    assert written.exit_code == 0, written.output
    assert written.stdout.strip().endswith(f"written to {home / 'reports' / 'lineage.html'}")  # one line
    page = (home / "reports" / "lineage.html").read_text()
    assert page.count("<svg") == 1  # the domains, not every dataset
    assert {p.name for p in (home / "reports" / "lineage").iterdir()} == {
        "iot.raw.readings.html",
        "iot.bronze.readings.html",
        "marts.traffic.fct_traffic.html",
        "marts.published.traffic.html",
    }
    attention = page.split("<h2>Needs attention</h2>", 1)[1].split("<h2>", 1)[0]
    assert '<a href="lineage/marts.traffic.fct_traffic.html">marts/traffic/fct_traffic</a>' in attention
    assert '<td class="status-failed">failed 1/2 (failed: test.city.not_null_fct_traffic)</td>' in attention
    assert '<td class="status-warn">warn 0/1 (warn: steward_trained)</td>' in attention
    assert '<h2 id="domain-iot">iot</h2>' in page and '<h2 id="domain-marts">marts</h2>' in page
    focused = (home / "reports" / "lineage" / "iot.bronze.readings.html").read_text()
    assert '<a href="../lineage.html">All datasets</a>' in focused


def test_pages_show_markup_in_a_job_name_as_text(home: Path, labels: Labels) -> None:
    City(home / "lineage").run("iot/<script>alert(1)</script>", [LANDING], OTHER)
    graph = graph_of(home)
    page = render_overview_html(graph, labels, "lineage/") + render_dataset_html(graph, OTHER, labels)
    assert "<script>" not in page and "&lt;script&gt;alert(1)" in page.split("<svg", 1)[1]
    assert ">iot/&lt;script&gt;alert(1)&lt;/script&gt;</a><br><small>s3://landing/other</small></td>" in page


# --- drawing: labels, verdicts, links, and no text on text --------------------------------------------


def _inside(inner: Bbox, outer: Bbox) -> bool:
    return outer.x0 <= inner.x0 and inner.x1 <= outer.x1 and outer.y0 <= inner.y0 and inner.y1 <= outer.y1


def assert_readable(figure: Figure) -> None:
    """No label touches another, every label lies inside a box, no box touches another (measured as
    drawn: matplotlib's own text extents)."""
    figure.draw_without_rendering()
    (axes,) = figure.axes
    texts: list[Text] = [t for t in axes.texts if t.get_text()]
    boxes = [p.get_window_extent() for p in axes.patches]
    for a, b in itertools.combinations(texts, 2):
        assert not a.get_window_extent().overlaps(b.get_window_extent()), (a.get_text(), b.get_text())
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    for text in texts:
        assert any(_inside(text.get_window_extent(), box) for box in boxes), text.get_text()


@pytest.mark.parametrize("ref", [HOURLY, "iot/bronze/readings", "marts/staging/stg_iot__sensors", FAILS])
def test_a_focused_view_is_readable_at_the_platforms_size(
    platform: LineageGraph, labels: Labels, ref: str
) -> None:
    focus = platform.resolve(ref)
    figure = focus_figure(platform, focus, labels)
    assert_readable(figure)
    view = platform.neighbourhood(focus, 2)
    assert len(figure.axes[0].patches) == len(view)
    width, _ = figure.get_size_inches()
    assert width <= (2 * 2 + 3) * COLUMN_PITCH  # a few columns either side, not the whole city


def test_a_node_shows_owner_classification_verdict_personal_data_and_links_to_dagster(
    platform: LineageGraph, labels: Labels
) -> None:
    drawing = svg(focus_figure(platform, platform.resolve(HOURLY), labels))
    assert ">fct_segment_traffic_hourly</text>" in drawing and ">marts/traffic/</text>" in drawing
    assert ">Choi Hyun-woo · internal</text>" in drawing and "city.example.kr" not in drawing
    assert 'xlink:href="http://127.0.0.1:3000/assets/marts/traffic/fct_segment_traffic_hourly"' in drawing
    hourly = platform.datasets[platform.resolve(HOURLY)]
    assert hourly.check_status == "warn"
    assert f">WARN {len(hourly.checks) - 1}/{len(hourly.checks)}</text>" in drawing
    assert f"fill: {STATUS['warn'][1]}" in drawing and f"fill: {STATUS['failed'][1]}" not in drawing

    detections = svg(focus_figure(platform, platform.resolve(FAILS), labels))
    assert f"fill: {STATUS['failed'][1]}" in detections and ">FAIL 0/1 · personal data</text>" in detections
    assert ">Jung Eun-bi · personal</text>" in detections
    assert ">clips</text>" in detections and ">PASS 1/1 · personal data</text>" in detections


def test_long_names_are_shortened_to_fit_their_box(platform: LineageGraph, labels: Labels) -> None:
    figure = focus_figure(
        platform, platform.resolve("marts/intermediate/int_segment_loop_hours_aggregated"), labels
    )
    titles = [t.get_text() for t in figure.axes[0].texts if t.get_fontweight() == "bold"]
    assert any(t.startswith("int_segment_") and "…" in t and t.endswith("_aggregated") for t in titles)
    figure.draw_without_rendering()
    assert all(t.get_window_extent().width <= BOX_W * figure.dpi for t in figure.axes[0].texts)


def test_the_mart_page_has_its_column_lineage(platform: LineageGraph, labels: Labels) -> None:
    page = render_dataset_html(platform, platform.resolve(HOURLY), labels)
    columns = page.split("<h2>Column lineage</h2>", 1)[1]
    hourly = platform.datasets[platform.resolve(HOURLY)]
    assert columns.count("<tr><td>") == len(hourly.column_lineage) > 0
    (source,) = hourly.column_lineage["cameras_reporting"]
    derived = f"{platform.datasets[source.dataset].job}.{source.field}"
    assert (
        f"<tr><td>cameras_reporting</td><td>VARCHAR</td><td>{derived}</td><td>IDENTITY</td></tr>" in columns
    )


def test_the_overview_draws_domains_not_datasets(platform: LineageGraph, labels: Labels) -> None:
    section_of = sections(platform)
    assert {"iot", "cctv", "marts/staging", "marts/traffic", "marts/published"} <= set(section_of.values())
    figure = overview_figure(platform, section_of)
    assert_readable(figure)
    assert len(figure.axes[0].patches) == len(set(section_of.values())) < len(platform.datasets) / 3
    page = render_overview_html(platform, labels, "lineage/")
    attention = page.split("<h2>Needs attention</h2>", 1)[1].split("<h2>", 1)[0]
    assert attention.index(FAILS) < attention.index(WARNS)  # failures first
    assert 'href="#domain-marts-traffic"' in page and '<h2 id="domain-marts-traffic">' in page

"""Scorecard arithmetic and the HTML report, without Dagster, on a small registry."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from governance.registry.departments import load_departments
from governance.registry.registry import Registry, load_registry
from governance.registry.training import add_months
from governance.stewardship.report import render_html
from governance.stewardship.scorecard import DepartmentScorecard, build_scorecards
from tests.governance.registry_files import city_today, trained_registry

TODAY = city_today()
OWNERSHIP = """\
datasets:
  traffic/a: {steward: S-007, deputy: S-014, department: traffic, classification: internal, retention_days: 9}
  traffic/b: {steward: S-014, deputy: S-025, department: traffic, classification: public, retention_days: 9}
  traffic/c: {steward: S-030, deputy: S-007, department: traffic, classification: internal, retention_days: 9}
  traffic/d: {steward: S-025, deputy: S-030, department: traffic, classification: public, retention_days: 9}
  environment/e:
    {steward: S-011, deputy: S-003, department: environment, classification: internal, retention_days: 9}
"""


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    """S-025 lapsed; S-030's 24-month courses expire in 10 days; everyone else current."""
    expiring = add_months(TODAY + timedelta(days=10), -24)
    directory = trained_registry(tmp_path / "registry", {"S-025": add_months(TODAY, -30), "S-030": expiring})
    (directory / "ownership.yaml").write_text(OWNERSHIP)
    return load_registry(directory)


def cards(
    registry: Registry, failed: dict | None = None, grants: dict | None = None
) -> dict[str, DepartmentScorecard]:
    built = build_scorecards(
        registry, load_departments(), registry.ownership, TODAY, failed or {}, grants or {}
    )
    return {card.department: card for card in built}


def test_share_single_trained_expiring_and_statuses(registry: Registry) -> None:
    traffic = cards(registry)["traffic"]
    assert [row.dataset for row in traffic.datasets] == ["traffic/a", "traffic/b", "traffic/c", "traffic/d"]
    assert traffic.owner_and_deputy_trained == 2  # a (both current) and c (S-030 expiring still counts)
    assert traffic.share_owner_and_deputy_trained == 0.5
    assert traffic.single_trained == ("traffic/b", "traffic/d")  # S-025 lapsed beside S-014 / S-030
    assert {(e.staff, e.course): e.datasets for e in traffic.expiring} == {
        ("S-030", "stewardship-fundamentals"): ("traffic/c", "traffic/d"),
        ("S-030", "data-quality"): ("traffic/c",),  # traffic/d is public: data-quality not required
    }
    summary = traffic.summary()
    assert (
        summary["steward_trained_pass"],
        summary["steward_trained_warn"],
        summary["steward_trained_fail"],
    ) == (2, 2, 0)
    assert summary["trainings_expiring_30d"] == 2 and summary["single_trained_datasets"] == 2
    assert cards(registry)["environment"].share_owner_and_deputy_trained == 1.0
    assert cards(registry)["policy_planning"].share_owner_and_deputy_trained is None  # owns nothing here


def test_failed_checks_and_grants_are_reported_per_department(registry: Registry) -> None:
    by_department = cards(registry, {"traffic/a": ["contract", "steward_trained"]}, {"traffic": 2})
    assert by_department["traffic"].failed_checks_open == ("traffic/a:contract", "traffic/a:steward_trained")
    assert by_department["traffic"].summary()["grants_due_for_renewal"] == 2
    assert by_department["environment"].summary()["grants_due_for_renewal"] == 0


def test_report_embeds_a_png_and_lists_what_needs_attention(registry: Registry) -> None:
    stored = [card.to_json() for card in cards(registry, {"environment/e": ["contract"]}).values()]
    html = render_html(stored, "registry baseline", datetime(2026, 11, 25, 7, tzinfo=UTC))
    png = base64.b64decode(html.split("data:image/png;base64,")[1].split('"')[0])
    assert png.startswith(b"\x89PNG")
    attention = html.split("<h2>Datasets needing attention</h2>")[1].split("<h2>")[0]
    assert all(d in attention for d in ("traffic/b", "traffic/c", "traffic/d", "environment/e"))
    assert "traffic/a" not in attention


def test_report_shows_markup_in_the_data_as_text(registry: Registry) -> None:
    stored = [card.to_json() for card in cards(registry).values()]
    hostile = "<script>alert('steward')</script>"
    stored[0]["rows"][0]["dataset"] = hostile
    html = render_html(stored, hostile, datetime(2026, 11, 25, 7, tzinfo=UTC))
    assert "<script>" not in html
    escaped = "&lt;script&gt;alert(&#39;steward&#39;)&lt;/script&gt;"
    assert f"Owners: {escaped}." in html and f"<tr><td>{escaped}</td>" in html

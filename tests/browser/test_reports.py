"""The HTML reports of the demo's state, opened in the browser as a steward or a department head
opens them: each renders its charts (an image that loads, an SVG or a canvas with something drawn)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec

from governance.registry.departments import load_departments
from tests.browser.conftest import Demo
from tests.browser.pages import Artefacts, page_text, wait, wait_for_charts, wait_for_text
from tests.cityapp.test_storage_cli import city

pytestmark = pytest.mark.browser

# The dataset whose lineage page a steward opens from the overview: a mart, with column lineage.
LINEAGE_DATASET = "marts/traffic/fct_segment_traffic_hourly"


def _open(browser: WebDriver, report: Path) -> None:
    assert report.is_file(), f"{report} was not written"
    browser.get(report.as_uri())


def test_the_lineage_report_draws_the_overview_and_links_to_a_dataset_s_lineage(
    demo: Demo, browser: WebDriver, artefacts: Artefacts
) -> None:
    result = city("lineage", "report", "--json", env={}, cwd=demo.settings.home_dir)
    assert result.returncode == 0, result.stderr
    _open(browser, Path(json.loads(result.stdout)["page"]))
    wait_for_charts(browser)
    artefacts.screenshot(browser, "lineage-report", full_page=True)

    wait(browser, 30).until(ec.element_to_be_clickable((By.LINK_TEXT, LINEAGE_DATASET))).click()
    wait(browser, 30).until(ec.url_contains("/lineage/"))
    wait_for_text(browser, [LINEAGE_DATASET], seconds=30)
    wait_for_charts(browser)
    artefacts.screenshot(browser, f"lineage-{LINEAGE_DATASET.replace('/', '-')}", full_page=True)


def test_the_steward_report_draws_its_chart(demo: Demo, browser: WebDriver, artefacts: Artefacts) -> None:
    _open(browser, demo.settings.reports_dir / "steward-report.html")
    wait_for_charts(browser)
    artefacts.screenshot(browser, "steward-report", full_page=True)


@pytest.mark.parametrize("department", [department.id for department in load_departments()])
def test_each_department_report_draws_its_charts_of_the_day(
    department: str, demo: Demo, browser: WebDriver, artefacts: Artefacts
) -> None:
    _open(browser, demo.settings.reports_dir / "departments" / f"{department}.html")
    wait_for_charts(browser)
    assert demo.day.isoformat() in page_text(browser), f"the {department} report does not name its data's day"
    artefacts.screenshot(browser, f"department-report-{department}", full_page=True)

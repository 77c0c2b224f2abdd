"""The Dagster UI on the demo's state, as an engineer meets it in a browser: the asset graph by
group, what an asset page says about its data (owners, classification, department, description,
partitions, checks), and a partition launched from a job page that runs to success.

What the pages must show is read from the code location at test time, so that a renamed group or a
new owner changes the expectation, not the test.
"""

from __future__ import annotations

import re

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec

from cityapp.dagster_home import CODE_LOCATION
from cityapp.demo import DEMO_JOBS
from tests.browser.conftest import Demo
from tests.browser.pages import (
    Artefacts,
    opening_words,
    page_text,
    wait,
    wait_for_text,
    wait_until_none_missing,
)

pytestmark = pytest.mark.browser

# An IoT asset and a dbt mart: the two kinds of page a steward and an engineer open most.
ASSET_PAGES = ("iot/bronze/readings", "marts/traffic/fct_segment_traffic_hourly")
STEWARD_CHECK = "steward_trained"
# A launched run imports the code location and runs its steps in processes of their own: minutes on
# a loaded 2-core machine.
RUN_WAIT_S = 900


def _spec(definitions: dg.Definitions, asset: str) -> dg.AssetSpec:
    key = dg.AssetKey.from_user_string(asset)
    return next(spec for spec in definitions.resolve_all_asset_specs() if spec.key == key)


def _owner_label(owner: str) -> str:
    """An owner as the UI prints it: the email, or the team's name."""
    return owner.removeprefix("team:")


def test_the_asset_graph_shows_every_group(
    dagster_ui: str, browser: WebDriver, definitions: dg.Definitions, artefacts: Artefacts
) -> None:
    groups = sorted({spec.group_name for spec in definitions.resolve_all_asset_specs() if spec.group_name})
    browser.get(f"{dagster_ui}/asset-groups")

    def groups_not_drawn(driver: WebDriver) -> list[str]:
        # A collapsed group's node carries its full name, however its label is truncated.
        drawn = {
            node.get_attribute("data-tooltip")
            for node in driver.find_elements(By.CSS_SELECTOR, "foreignObject [data-tooltip]")
        }
        return [group for group in groups if group not in drawn]

    wait_until_none_missing(browser, groups_not_drawn)
    artefacts.screenshot(browser, "asset-graph")


@pytest.mark.parametrize("asset", ASSET_PAGES)
def test_an_asset_page_shows_owners_tags_description_partitions_and_checks(
    asset: str,
    dagster_ui: str,
    browser: WebDriver,
    definitions: dg.Definitions,
    demo: Demo,
    artefacts: Artefacts,
) -> None:
    spec = _spec(definitions, asset)
    page = f"{dagster_ui}/assets/{asset}"
    name = asset.replace("/", "-")
    day = demo.day.isoformat()
    description = opening_words(spec.description or "")
    assert description, f"{asset} has no description to show"

    browser.get(f"{page}?view=overview")
    wait_for_text(
        browser,
        [
            *(_owner_label(owner) for owner in spec.owners),
            *(f"{tag}: {spec.tags[tag]}" for tag in ("classification", "department")),
            description,
            day,  # the latest materialisation's partition
        ],
    )
    owners = browser.find_element(By.XPATH, "//*[normalize-space()='Owners']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", owners)
    artefacts.screenshot(browser, f"{name}-overview")

    assert spec.partitions_def is not None, f"{asset} is not partitioned"
    browser.get(f"{page}?view=partitions&partition={day}")
    text = wait_for_text(browser, ["Materialized (", "Latest materialization"])
    assert re.search(rf"{day}\s+Materialized\s+Latest materialization", text), (
        f"the partitions tab does not show {day} as materialised"
    )
    artefacts.screenshot(browser, f"{name}-partitions")

    checks = definitions.resolve_asset_graph().get_check_keys_for_assets({spec.key})
    steward = next(check for check in checks if check.name == STEWARD_CHECK)
    browser.get(f"{page}?view=checks")
    wait_for_text(browser, [f"Checks ({len(checks)})", STEWARD_CHECK])
    named = f"normalize-space()='{STEWARD_CHECK}'"
    entry = (By.XPATH, f"//*[{named} and not(*[{named}])]")  # the innermost element with the name
    wait(browser).until(ec.element_to_be_clickable(entry)).click()
    check_spec = definitions.resolve_asset_graph().get_check_spec(steward)
    text = wait_for_text(browser, [opening_words(check_spec.description or ""), "Evaluation result"])
    result = re.search(r"Evaluation result\s+(.+)", text)
    assert result and result.group(1) != "Not evaluated", f"{STEWARD_CHECK} of {asset} was not evaluated"
    artefacts.screenshot(browser, f"{name}-checks")


def test_a_partition_launched_from_the_job_page_runs_to_success(
    dagster_ui: str, browser: WebDriver, demo: Demo, artefacts: Artefacts
) -> None:
    job = next(name for name, partitioned_by in DEMO_JOBS if partitioned_by == "day")
    day = demo.day.isoformat()
    browser.get(f"{dagster_ui}/locations/{CODE_LOCATION}/jobs/{job}/playground")

    def day_picked(driver: WebDriver) -> bool:
        """Whether the launchpad tags the run with the day; if not, type the day into the partition
        picker and choose it. The launchpad renders the picker again as its partitions load: a try
        that loses its element is tried again."""
        if f"partition: {day}" in page_text(driver):
            return True
        picker = driver.find_element(By.CSS_SELECTOR, "input[placeholder='Partition']")
        picker.click()
        picker.send_keys(Keys.CONTROL, "a")
        picker.send_keys(day)
        choice = (By.XPATH, f"//*[@role='menuitem'][normalize-space()='{day}']")
        wait(driver, 30).until(ec.element_to_be_clickable(choice)).click()
        return False  # the tag shows on a later look

    wait(browser).until(day_picked)
    artefacts.screenshot(browser, f"{job}-launchpad")

    launch = (By.XPATH, "//button[normalize-space()='Launch Run']")
    wait(browser).until(ec.element_to_be_clickable(launch)).click()
    wait(browser).until(ec.url_contains("/runs/"))
    run_id = browser.current_url.split("/runs/", 1)[1].split("?")[0].strip("/")
    ref = InstanceRef.from_dir(str(demo.settings.dagster_home))
    with dg.DagsterInstance.from_ref(ref) as instance:
        run = wait(browser, RUN_WAIT_S).until(
            lambda _: (run := instance.get_run_by_id(run_id)) is not None and run.is_finished and run
        )
        failures = [
            event.message
            for event in instance.all_logs(
                run_id, of_type={dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE}
            )
        ]
    assert run.status == dg.DagsterRunStatus.SUCCESS, f"run {run_id} of {job} [{day}]: {failures}"
    assert run.tags.get("dagster/partition") == day
    wait_for_text(browser, ["Success"])  # the run page follows the run
    artefacts.screenshot(browser, f"{job}-run")

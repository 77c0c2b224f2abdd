"""Waiting on pages, finding their charts and keeping screenshots, for the browser tests.

Every wait is explicit (WebDriverWait polling a condition) and fails naming what the page did not
show, so that a red test says which owner, tag or chart is missing rather than "timed out".
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from selenium.common.exceptions import (
    ElementClickInterceptedException,
    ElementNotInteractableException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

# A page of the Dagster UI on a loaded 2-core machine; the first one also waits for the code location.
PAGE_WAIT_S = 300
# A full-page screenshot of a report stops here: past it, a page is a scroll no one reads as a picture.
MAX_SCREENSHOT_PX = 12_000

# A chart is an image, an SVG or a canvas of a chart's size that has something drawn in it: an
# image that loaded, an SVG with shapes. A nested SVG belongs to its outer one; icons are too small.
_CHARTS_JS = """
return Array.from(document.querySelectorAll("img, svg, canvas")).filter((element) => {
  if (element.ownerSVGElement) return false;
  const box = element.getBoundingClientRect();
  if (box.width < 120 || box.height < 80) return false;
  if (element instanceof HTMLImageElement) return element.complete && element.naturalWidth > 0;
  if (element instanceof SVGSVGElement)
    return element.querySelector("path, rect, circle, ellipse, line, polyline, polygon") !== null;
  return true;
}).length;
"""
_BROKEN_IMAGES_JS = """
return Array.from(document.images)
  .filter((image) => image.complete && image.naturalWidth === 0)
  .map((image) => image.alt || image.src.slice(0, 80));
"""


def wait(browser: WebDriver, seconds: float = PAGE_WAIT_S) -> WebDriverWait[WebDriver]:
    """A wait that outlasts a single-page app rendering an element again, or covering it a moment."""
    ignored = [
        StaleElementReferenceException,
        ElementNotInteractableException,
        ElementClickInterceptedException,
        TimeoutException,  # of a shorter wait inside the condition: the condition tries again
    ]
    return WebDriverWait(browser, seconds, poll_frequency=1, ignored_exceptions=ignored)


def page_text(browser: WebDriver) -> str:
    return browser.find_element(By.TAG_NAME, "body").text


def wait_until_none_missing(
    browser: WebDriver, missing: Callable[[WebDriver], list[str]], seconds: float = PAGE_WAIT_S
) -> None:
    """Wait until ``missing`` finds nothing missing on the page; fail naming what still is."""
    try:
        wait(browser, seconds).until(lambda driver: not missing(driver))
    except TimeoutException:
        raise AssertionError(
            f"{browser.current_url} does not show {missing(browser)} after {seconds:.0f} s"
        ) from None


def wait_for_text(browser: WebDriver, expected: Iterable[str], seconds: float = PAGE_WAIT_S) -> str:
    """Wait until the page shows every one of ``expected``; return the page's text."""
    wanted = list(expected)
    wait_until_none_missing(browser, lambda d: [t for t in wanted if t not in page_text(d)], seconds)
    return page_text(browser)


def opening_words(markdown: str) -> str:
    """A description's words up to its first markdown syntax: what the UI shows exactly as written."""
    return re.split(r"[`*_<>\[\]{}#|\n]", markdown, maxsplit=1)[0].strip()


def wait_for_charts(browser: WebDriver, minimum: int = 1, seconds: float = 60) -> int:
    """Wait until the page draws at least ``minimum`` charts (a charting library may draw after
    load); fail on any image that did not load. Return how many charts it draws."""
    try:
        count: int = wait(browser, seconds).until(
            lambda driver: (n := driver.execute_script(_CHARTS_JS)) >= minimum and n
        )
    except TimeoutException:
        count = browser.execute_script(_CHARTS_JS)
        raise AssertionError(
            f"{browser.current_url} draws {count} chart(s) after {seconds:.0f} s, expected {minimum}"
        ) from None
    broken = browser.execute_script(_BROKEN_IMAGES_JS)
    assert not broken, f"{browser.current_url}: images that did not load: {broken}"
    return count


@dataclass
class Artefacts:
    """Where the screenshots (and the logs of the demo and the UI) are kept, and what was saved."""

    folder: Path
    saved: list[Path] = field(default_factory=list)

    def screenshot(self, browser: WebDriver, name: str, *, full_page: bool = False) -> Path:
        """Save what the browser shows as ``NN-name.png``; ``full_page``: the whole document (a
        report), else the window (the Dagster UI scrolls inside its own panes)."""
        path = self.folder / f"{len(self.saved) + 1:02d}-{name}.png"
        if full_page:
            width, height = browser.execute_script(
                "const root = document.documentElement; return [root.scrollWidth, root.scrollHeight];"
            )
            clip = {"x": 0, "y": 0, "width": width, "height": min(height, MAX_SCREENSHOT_PX), "scale": 1}
            shot = browser.execute_cdp_cmd(
                "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
            )
            path.write_bytes(base64.b64decode(shot["data"]))
        else:
            assert browser.save_screenshot(str(path)), f"no screenshot of {browser.current_url}"
        self.saved.append(path)
        return path

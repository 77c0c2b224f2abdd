"""The browser tests' session: one ``city demo`` day, the Dagster UI on it, one headless Chromium.

The state is built once per session the way a person builds it (``city demo`` on its own S3 server
and home, then ``city ui``), because the demo alone takes minutes on 2 cores. The browser is Debian's
Chromium through its chromedriver: nothing is downloaded. Screenshots, and the logs of the demo and
the UI, go to ``CITY_BROWSER_ARTEFACTS`` (default: a folder in pytest's temporary directory), listed
at the end of the run so that CI can keep them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from cityapp.dagster_home import load_definitions
from cityplatform.embedded_s3 import EmbeddedS3, free_port
from cityplatform.settings import Settings, load_settings
from tests.browser.pages import PAGE_WAIT_S, Artefacts
from tests.cityapp.test_storage_cli import city

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DEMO_DAY = date(2026, 5, 5)
DEMO_SENSORS = 20  # a small city: the pages are the same, the demo is minutes shorter
ARTEFACTS_KEY = pytest.StashKey[Artefacts]()


@dataclass(frozen=True)
class Demo:
    """The platform's state after ``city demo``: its settings (home, S3 endpoint) and its day."""

    settings: Settings
    day: date


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    artefacts = config.stash.get(ARTEFACTS_KEY, None)
    if artefacts is None:
        return
    terminalreporter.write_sep("-", f"browser test artefacts in {artefacts.folder}")
    for path in artefacts.saved:
        terminalreporter.write_line(str(path))


@pytest.fixture(scope="session")
def artefacts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Artefacts:
    configured = os.environ.get("CITY_BROWSER_ARTEFACTS")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("browser-artefacts")
    folder.mkdir(parents=True, exist_ok=True)
    request.config.stash[ARTEFACTS_KEY] = Artefacts(folder.resolve())
    return request.config.stash[ARTEFACTS_KEY]


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, artefacts: Artefacts) -> Iterator[Demo]:
    """``city demo`` of one day on a fresh home and S3 port, the environment pointing at it for the
    session; its S3 server stops at the end."""
    root = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CITY_HOME", str(root / "city"))
        patch.setenv("CITY_S3_ENDPOINT", f"127.0.0.1:{free_port()}")
        settings = load_settings()
        try:
            args = ("--day", DEMO_DAY.isoformat(), "--sensors", str(DEMO_SENSORS))
            result = city("demo", *args, env={}, cwd=root)
            (artefacts.folder / "city-demo.log").write_text(result.stdout + result.stderr)
            assert result.returncode == 0, f"city demo exited {result.returncode}:\n{result.stderr[-3000:]}"
            yield Demo(settings, DEMO_DAY)
        finally:
            EmbeddedS3.from_settings(settings).stop()


@pytest.fixture(scope="session")
def definitions(demo: Demo) -> dg.Definitions:
    """The code location as the UI loads it, on the demo's state (its landed day is a partition):
    what the pages must show is read from here, not written twice."""
    return load_definitions(refresh_manifest=False)


def _serving(url: str, process: subprocess.Popen[bytes], log: Path) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"city ui exited {process.returncode}:\n{log.read_text()[-3000:]}")
    try:
        with urllib.request.urlopen(f"{url}/server_info", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop ``city ui`` and everything it started (webserver, daemon, code server, run workers):
    they share its process group."""
    os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=60)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever outlived the shutdown
    process.wait()


@pytest.fixture(scope="session")
def dagster_ui(demo: Demo, artefacts: Artefacts) -> Iterator[str]:
    """``city ui`` (``dagster dev``: webserver and daemon) on the demo's instance, on a free port;
    its URL once it answers. Run from the repository, whose pyproject names the code location."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = artefacts.folder / "dagster-ui.log"
    command = [sys.executable, "-c", "from cityapp.cli.main import app; app()", "ui", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        try:
            WebDriverWait(process, PAGE_WAIT_S, poll_frequency=1).until(lambda p: _serving(url, p, log))
        except TimeoutException:
            tail = log.read_text()[-3000:]
            raise AssertionError(f"city ui did not answer in {PAGE_WAIT_S} s:\n{tail}") from None
        # The welcome dialog a first visit opens on 127.0.0.1 would cover every screenshot: dismiss
        # it as the UI does, once for the instance.
        nux = urllib.request.Request(
            f"{url}/graphql",
            data=json.dumps({"query": "mutation { setNuxSeen }"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(nux, timeout=30) as response:
            assert json.load(response) == {"data": {"setNuxSeen": True}}
        yield url
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def browser() -> Iterator[WebDriver]:
    """Headless Chromium, 1600x1200, driven through Debian's chromedriver."""
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists():
            pytest.fail(f"{path} is missing: the browser tests need Debian's {package} (apt-get install it)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # --no-sandbox: CI runs as root in a container; /dev/shm there is too small for Chromium's pages.
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,1200"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(PAGE_WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()

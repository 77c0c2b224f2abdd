"""The object-store layer when the real S3 server process goes away: a restart of a few seconds is
ridden out by the retries, a server that stays down is one line (``ObjectStoreError``), and the CLI
turns that line into exit code 3."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed

from cityplatform.embedded_s3 import EmbeddedS3
from cityplatform.exits import EXIT_STORAGE
from cityplatform.layout import landing_iot_prefix
from cityplatform.objectstore import LANDING, ObjectStore, ObjectStoreError
from tests.conftest import running_s3_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedS3]:
    """A server of this module's own, since its tests stop and restart it."""
    with running_s3_server(tmp_path_factory.mktemp("fault-s3")) as server:
        yield server


@pytest.fixture
def stopped(s3_server: EmbeddedS3) -> Iterator[EmbeddedS3]:
    """The server stopped for the test, running again after it."""
    s3_server.stop()
    try:
        yield s3_server
    finally:
        if s3_server.read_state() is None:
            s3_server.start()


def test_a_restart_of_a_few_seconds_is_ridden_out(store: ObjectStore, stopped: EmbeddedS3) -> None:
    def restart_later() -> None:
        time.sleep(2)
        stopped.start()

    restart = threading.Thread(target=restart_later)
    restart.start()
    written = store.put_bytes(LANDING, "tests/faults/written-while-down.txt", b"kept")  # refused at first
    restart.join()
    assert store.get_bytes(LANDING, written.key) == b"kept"


def test_a_server_that_stays_down_is_one_line(store: ObjectStore, stopped: EmbeddedS3) -> None:
    with pytest.raises(ObjectStoreError) as raised:
        list(store.list_objects(LANDING, "tests/"))
    assert str(raised.value) == (
        f"S3 at {store.url} does not answer: start it with `city storage up` or set CITY_S3_ENDPOINT."
    )


def test_storage_gone_in_the_middle_of_a_command_is_one_line_and_exit_code_3(
    s3_server: EmbeddedS3, store: ObjectStore, city_env: Path
) -> None:
    command = [sys.executable, "-c", "from cityapp.cli.main import app; app()"]
    args = ["simulate", "iot", "--day", "2026-02-01", "--days", "20", "--sensors", "20"]
    first_day = landing_iot_prefix("rain", date(2026, 2, 1))
    with subprocess.Popen(
        [*command, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as process:
        # the first day is written: the server goes away under the next ones, and stays away
        Retrying(stop=stop_after_delay(120), wait=wait_fixed(0.05), retry=retry_if_result(lambda r: not r))(
            lambda: any(True for _ in store.list_objects(LANDING, first_day))
        )
        s3_server.stop()
        try:
            _, stderr = process.communicate(timeout=300)
        finally:
            s3_server.start()
    assert process.returncode == EXIT_STORAGE
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == (
        f"error: S3 at {store.url} does not answer: start it with `city storage up` or set CITY_S3_ENDPOINT."
    )

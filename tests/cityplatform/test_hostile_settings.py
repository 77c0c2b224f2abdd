"""Hostile settings through the CLI: each is one line naming the variable, exit 2, before anything
starts; an endpoint that accepts connections and never answers is reported within seconds, exit 3.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityapp.cli.main import app
from cityplatform.exits import EXIT_CONFIG, EXIT_STORAGE
from cityplatform.objectstore import CONNECT_TIMEOUT, PROBE_READ_TIMEOUT


@dataclass(frozen=True)
class Case:
    name: str
    env: dict[str, str]  # ``{tmp}`` is the test's temp folder, holding a file ``file``, a folder ``folder``
    expected: str  # the whole message after ``error: ``


CASES = [
    Case(
        "port not a number",
        {"CITY_S3_ENDPOINT": "127.0.0.1:s3"},
        "CITY_S3_ENDPOINT: '127.0.0.1:s3': the port 's3' is not a number from 1 to 65535",
    ),
    Case(
        "port out of range",
        {"CITY_S3_ENDPOINT": "127.0.0.1:70000"},
        "CITY_S3_ENDPOINT: '127.0.0.1:70000': the port '70000' is not a number from 1 to 65535",
    ),
    Case(
        "no port",
        {"CITY_S3_ENDPOINT": "minio.city.example"},
        "CITY_S3_ENDPOINT: 'minio.city.example' is not host:port (e.g. 127.0.0.1:8333)",
    ),
    Case(
        "http URL",
        {"CITY_S3_ENDPOINT": "http://127.0.0.1:8333"},
        "CITY_S3_ENDPOINT: 'http://127.0.0.1:8333' is a URL: write host:port, e.g. '127.0.0.1:8333'",
    ),
    Case(
        "https URL",
        {"CITY_S3_ENDPOINT": "https://minio.city.example:9000/"},
        "CITY_S3_ENDPOINT: 'https://minio.city.example:9000/' is a URL: write host:port, e.g. "
        "'minio.city.example:9000'; TLS is CITY_S3_SECURE=true",
    ),
    Case(
        "a path after the port",
        {"CITY_S3_ENDPOINT": "minio:9000/city"},
        "CITY_S3_ENDPOINT: 'minio:9000/city' is not host:port (e.g. 127.0.0.1:8333)",
    ),
    Case("home is a file", {"CITY_HOME": "{tmp}/file"}, "CITY_HOME: {tmp}/file is not a directory"),
    Case("home under a file", {"CITY_HOME": "{tmp}/file/city"}, "CITY_HOME: {tmp}/file is not a directory"),
    Case(
        "home not writable",
        {"CITY_HOME": "/proc/1/city"},  # not writable even by root
        "CITY_HOME: /proc/1 is not writable by this user",
    ),
    Case(
        "secret file missing",
        {"CITY_S3_SECRET_KEY_FILE": "{tmp}/nowhere"},
        "CITY_S3_SECRET_KEY_FILE: {tmp}/nowhere does not exist",
    ),
    Case(
        "secret file a folder",
        {"CITY_S3_SECRET_KEY_FILE": "{tmp}/folder"},
        "CITY_S3_SECRET_KEY_FILE: {tmp}/folder is not a file",
    ),
    Case(
        "secret file empty",
        {"CITY_S3_SECRET_KEY_FILE": "{tmp}/empty"},
        "CITY_S3_SECRET_KEY_FILE: {tmp}/empty is empty",
    ),
    Case(
        "CA file missing",
        {"CITY_S3_CA_FILE": "{tmp}/ca.pem"},
        "CITY_S3_CA_FILE: {tmp}/ca.pem is not a file (the city's CA bundle, PEM)",
    ),
    Case(
        "department keys a folder",
        {"CITY_DEPARTMENT_CREDENTIALS_FILE": "{tmp}/folder"},
        "CITY_DEPARTMENT_CREDENTIALS_FILE: {tmp}/folder is not a file",
    ),
    Case(
        "department keys missing in production",
        {"CITY_MODE": "production", "CITY_DEPARTMENT_CREDENTIALS_FILE": "{tmp}/departments.json"},
        "CITY_DEPARTMENT_CREDENTIALS_FILE: {tmp}/departments.json does not exist (production never "
        "generates department keys: provide the file)",
    ),
    Case(
        "unknown time zone",
        {"CITY_TIMEZONE": "Mars/Olympus_Mons"},
        "CITY_TIMEZONE: unknown time zone 'Mars/Olympus_Mons' (an IANA name such as Europe/Berlin)",
    ),
    Case(
        "a folder of time zones",
        {"CITY_TIMEZONE": "America"},
        "CITY_TIMEZONE: unknown time zone 'America' (an IANA name such as Europe/Berlin)",
    ),
    Case(
        "first day before 1970",
        {"CITY_FIRST_DAY": "1969-12-31"},
        "CITY_FIRST_DAY: 1969-12-31 is before 1970-01-01, the first day a partition can have",
    ),
    Case(
        "first day impossible",
        {"CITY_FIRST_DAY": "2026-02-30"},
        "CITY_FIRST_DAY: Input should be a valid date or datetime, day value is outside expected range",
    ),
    Case(
        "secure not a boolean",
        {"CITY_S3_SECURE": "maybe"},
        "CITY_S3_SECURE: Input should be a valid boolean, unable to interpret input",
    ),
]


def city(env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["storage", "status"], env=env)
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not escaped and "Traceback" not in result.output, result.output
    return result.exit_code, result.output


@pytest.fixture
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").write_text("\n")
    (tmp_path / "folder").mkdir()
    return tmp_path


def test_the_corpus_counts_every_class_the_issue_names() -> None:
    variables = {name for case in CASES for name in case.env}
    assert len({case.name for case in CASES}) == len(CASES) >= 20
    assert {"CITY_S3_ENDPOINT", "CITY_HOME", "CITY_S3_SECRET_KEY_FILE", "CITY_TIMEZONE"} <= variables


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_hostile_setting_is_one_line_naming_the_variable(case: Case, tmp: Path) -> None:
    env = {name: value.format(tmp=tmp) for name, value in case.env.items()}
    assert city(env) == (EXIT_CONFIG, f"error: {case.expected.format(tmp=tmp)}\n")


def test_a_dotenv_that_is_not_utf8_is_named(tmp: Path) -> None:
    (tmp / ".env").write_bytes(b"CITY_TIMEZONE=Europe/Z\xfcrich\n")
    assert city({}) == (EXIT_CONFIG, "error: .env: not UTF-8 text (byte 0xfc at 22)\n")


def test_an_endpoint_that_accepts_and_never_answers_is_reported_within_seconds(tmp: Path) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes each connection; nobody ever reads or writes
        endpoint = f"127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        code, output = city({"CITY_S3_ENDPOINT": endpoint})
        took = time.monotonic() - started
    assert (code, output) == (
        EXIT_STORAGE,
        f"error: S3 at http://{endpoint} accepted the connection but did not answer in time: is "
        "CITY_S3_ENDPOINT an S3 server, and is it overloaded?\n",
    )
    assert PROBE_READ_TIMEOUT <= took < PROBE_READ_TIMEOUT + CONNECT_TIMEOUT + 2

"""``city storage``: what production mode refuses, in one line and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cityplatform.embedded_s3 import free_port, port_in_use
from cityplatform.exits import EXIT_CONFIG


def city(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real command line in a process of its own: exit code, stderr, no test runner between."""
    command = [sys.executable, "-c", "from cityapp.cli.main import app; app()", *args]
    return subprocess.run(command, env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True)


def test_storage_up_in_production_refuses_in_one_line_and_starts_nothing(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "CITY_MODE": "production",
        "CITY_HOME": str(tmp_path / "city"),
        "CITY_S3_ENDPOINT": f"127.0.0.1:{port}",
        "CITY_S3_SECURE": "true",
        "CITY_S3_ACCESS_KEY": "platform-prod",
        "CITY_S3_SECRET_KEY": "a-production-secret-key",
    }
    result = city("storage", "up", env=env, cwd=tmp_path)
    assert result.returncode == EXIT_CONFIG
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "CITY_MODE=production refuses the embedded S3 server" in lines[0]
    assert not port_in_use("127.0.0.1", port)
    assert not (tmp_path / "city" / "s3").exists()


def test_a_short_secret_in_production_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    env = {
        "CITY_MODE": "production",
        "CITY_HOME": str(tmp_path / "city"),
        "CITY_S3_SECURE": "true",
        "CITY_S3_ACCESS_KEY": "platform-prod",
        "CITY_S3_SECRET_KEY": "short",
    }
    result = city("storage", "status", env=env, cwd=tmp_path)
    assert result.returncode == EXIT_CONFIG
    assert result.stderr.count("\n") == 1 and "CITY_S3_SECRET_KEY" in result.stderr

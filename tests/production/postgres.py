"""A throwaway PostgreSQL cluster from the installed server binaries, for the production tests and
``benchmarks/runs.py``: ``initdb`` and ``pg_ctl`` in a temporary folder, on a free loopback port, with
password authentication as a real deployment has it. initdb refuses to run as root, so under root the
server runs as the ``postgres`` user that Debian's package creates.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql

from cityplatform.embedded_s3 import free_port

SUPERUSER = "dagster"
SERVER_ACCOUNT = "postgres"  # the account Debian's postgresql package creates; used when we are root


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str

    def create_database(self, name: str) -> None:
        # Not `with connection`: that opens a transaction, and CREATE DATABASE refuses to run in one.
        connection = self._connect("postgres")
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            connection.close()

    def dagster_env(self, database: str) -> dict[str, str]:
        """The variables infra/dagster/dagster.yaml reads its PostgreSQL storage from."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": database,
        }

    def _connect(self, database: str) -> psycopg2.extensions.connection:
        return psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, dbname=database
        )


def server_binaries() -> Path:
    """The folder of ``initdb`` and ``pg_ctl``: on PATH, else the newest Debian install."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(os.path.realpath(on_path)).parent
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3].split(".")[0])
    )
    if not debian:
        raise RuntimeError("PostgreSQL's initdb and pg_ctl are not installed: apt-get install postgresql")
    return Path(debian[-1]).parent


@contextmanager
def temporary_postgres() -> Iterator[PostgresServer]:
    """A running cluster, stopped and deleted when the block ends."""
    binaries = server_binaries()
    account = SERVER_ACCOUNT if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="city-pg-"))
    password = secrets.token_urlsafe(24)
    (root / "password").write_text(password)
    if account:
        for path in (root, root / "password"):
            shutil.chown(path, account)
    data, port = root / "data", free_port()
    try:
        _as(account, binaries / "initdb", "--pgdata", data, "--username", SUPERUSER, "--pwfile",
            root / "password", "--auth", "scram-sha-256", "--encoding", "UTF8", "--no-sync")  # fmt: skip
        # Durability off: the cluster lives for one test session. The socket stays in our folder.
        options = f"-c listen_addresses=127.0.0.1 -c port={port} -k {root} -c fsync=off -c full_page_writes=0"
        _as(account, binaries / "pg_ctl", "--pgdata", data, "--log", root / "server.log", "--wait",
            "--timeout", "60", "--options", options, "start", log=root / "server.log")  # fmt: skip
        try:
            yield PostgresServer("127.0.0.1", port, SUPERUSER, password)
        finally:
            _as(account, binaries / "pg_ctl", "--pgdata", data, "--mode", "fast", "--wait", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _as(account: str | None, *command: str | Path, log: Path | None = None) -> None:
    """Run a server command, as ``account`` when given; its output (and the server's ``log``) is the
    error when it fails."""
    argv = [str(part) for part in command]
    if account:
        argv = ["runuser", "-u", account, "--", *argv]
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    if result.returncode != 0:
        server_log = log.read_text()[-4000:] if log and log.exists() else ""
        raise RuntimeError(
            f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}{result.stderr}{server_log}"
        )

"""The production topology on one machine, for the production tests and ``benchmarks/runs.py``: the
instance of ``infra/dagster/dagster.yaml`` on PostgreSQL, a gRPC code server, the Dagster daemon, and
what an operator does to them (submit a job to the queue, turn a sensor on, launch a backfill).

The instance file is the deployed one with two changes a single machine without Docker needs: the
default run launcher (a run is a subprocess of the code server, its steps subprocesses of the run:
the multiprocess executor, as in a run pod) and compute logs in a local folder. The daemon starts
through the image's entrypoint, so its secret file and pool limits are read the way they are in a
container.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import yaml
from dagster._cli.job import _create_run as create_run
from dagster._core.definitions.assets.graph.remote_asset_graph import RemoteWorkspaceAssetGraph
from dagster._core.execution.backfill import (
    BULK_ACTION_TERMINAL_STATUSES,
    BulkActionStatus,
    PartitionBackfill,
)
from dagster._core.remote_representation.external import RemoteRepository
from dagster._core.storage.dagster_run import FINISHED_STATUSES
from dagster._core.utils import make_new_backfill_id
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster._grpc.client import DagsterGrpcClient

from cityplatform.embedded_s3 import free_port

REPO = Path(__file__).resolve().parents[2]
INFRA_DAGSTER = REPO / "infra" / "dagster"
ENTRYPOINT = REPO / "infra" / "docker" / "entrypoint.sh"
BIN = Path(sys.executable).parent  # the venv's dagster and dagster-daemon
# Loading the code location imports dbt, DuckDB and the vision stack: tens of seconds on 2 cores.
CODE_SERVER_START_S = 300
DAEMON_START_S = 120


def write_instance(home: Path) -> Path:
    """``home``/dagster.yaml: infra/dagster/dagster.yaml with the default run launcher and local
    compute logs, everything else (PostgreSQL storage, queue, pools, monitoring, retries) as written."""
    config = yaml.safe_load((INFRA_DAGSTER / "dagster.yaml").read_text())
    config["run_launcher"] = {"module": "dagster._core.launcher", "class": "DefaultRunLauncher"}
    config["compute_logs"]["config"]["base_dir"] = str(home / "compute_logs")
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return home


def write_workspace(home: Path, port: int) -> Path:
    """infra/dagster/workspace.yaml pointed at a code server on this machine's ``port``."""
    workspace = yaml.safe_load((INFRA_DAGSTER / "workspace.yaml").read_text())
    (entry,) = workspace["load_from"]
    entry["grpc_server"].update(host="127.0.0.1", port=port)
    path = home / "workspace.yaml"
    path.write_text(yaml.safe_dump(workspace, sort_keys=False))
    return path


def location_name() -> str:
    (entry,) = yaml.safe_load((INFRA_DAGSTER / "workspace.yaml").read_text())["load_from"]
    return entry["grpc_server"]["location_name"]


@dataclass
class Service:
    """A process group we started, with the file its output goes to."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return f"--- last lines of {self.name} ({self.log}) ---\n" + "\n".join(text[-lines:])

    def exited(self) -> str | None:
        """Why waiting for it is pointless: it has exited."""
        code = self.process.poll()
        return None if code is None else f"{self.name} exited with code {code}\n{self.tail()}"

    def stop(self, timeout: float = 30) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@contextmanager
def service(name: str, argv: Sequence[str | Path], env: Mapping[str, str], log: Path) -> Iterator[Service]:
    """``argv`` in a process group of its own (its run and step subprocesses included), stopped
    with the whole group when the block ends."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(a) for a in argv],
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Service(name, process, log)
    try:
        yield running
    finally:
        running.stop()


def wait_for(what: str, done: Callable[[], bool], timeout: float, *services: Service) -> None:
    """Call ``done`` every second until it returns true; fail early when a service has exited,
    and after ``timeout`` seconds, with the services' last log lines."""
    deadline = time.monotonic() + timeout
    while True:
        if done():
            return
        for s in services:
            if reason := s.exited():
                raise RuntimeError(f"{what}: {reason}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout:.0f} s\n" + "\n".join(s.tail() for s in services))
        time.sleep(1)


@contextmanager
def code_server(env: Mapping[str, str], port: int, log: Path) -> Iterator[Service]:
    """The code location served as on one machine without Docker (``orchestration.code_server``:
    ``dagster api grpc`` whose run workers fork from a process that has built the definitions)."""
    argv = [sys.executable, "-m", "orchestration.code_server"]
    argv += ["--host", "127.0.0.1", "--port", str(port), "--location-name", location_name()]
    with service("code server", argv, env, log) as server:
        client = DagsterGrpcClient(port=port, host="127.0.0.1")

        def answers() -> bool:
            try:
                client.ping("ready")
            except Exception:
                return False
            return True

        wait_for("the code server answers", answers, CODE_SERVER_START_S, server)
        yield server


@contextmanager
def daemon(
    env: Mapping[str, str], workspace: Path, instance: dg.DagsterInstance, log: Path
) -> Iterator[Service]:
    """``dagster-daemon run`` through the image's entrypoint, up once every daemon has beaten."""
    argv = ["sh", ENTRYPOINT, BIN / "dagster-daemon", "run", "--workspace", workspace]
    needed = {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR", "BACKFILL", "MONITORING"}
    with service("daemon", argv, env, log) as running:
        wait_for(
            "every daemon beats",
            lambda: needed <= set(instance.get_daemon_heartbeats()),
            DAEMON_START_S,
            running,
        )
        yield running


class Platform:
    """The running topology as an operator drives it: the instance, the code location through the
    workspace file (what the daemon and the webserver use), and the two services."""

    def __init__(
        self,
        instance: dg.DagsterInstance,
        workspace: Path,
        context: WorkspaceProcessContext,
        code_server: Service,
        daemon: Service,
    ):
        self.instance = instance
        self.workspace = workspace
        self.code_server = code_server
        self.daemon = daemon
        self._context = context

    @property
    def services(self) -> tuple[Service, Service]:
        return self.code_server, self.daemon

    def repository(self) -> RemoteRepository:
        location = self._context.create_request_context().get_code_location(location_name())
        (repository,) = location.get_repositories().values()
        return repository

    def asset_graph(self) -> RemoteWorkspaceAssetGraph:
        return self._context.create_request_context().asset_graph

    def submit(self, job: str, partition: str | None = None) -> str:
        """Put a run of ``job`` in the queue, as the webserver's launch button or a sensor does: from
        the workspace already loaded (``dagster job launch`` would load it first); return its id."""
        tags = {"dagster/partition": partition} if partition else {}
        workspace = self._context.create_request_context()
        repository = self.repository()
        run = create_run(
            instance=self.instance,
            code_location=workspace.get_code_location(location_name()),
            remote_repo=repository,
            remote_job=repository.get_full_job(job),
            run_config={},
            tags=tags,
            op_selection=None,
            run_id=None,
        )
        return self.instance.submit_run(run.run_id, workspace).run_id

    def start_sensor(self, name: str) -> None:
        self.instance.start_sensor(self.repository().get_sensor(name))

    def stop_sensor(self, name: str) -> None:
        sensor = self.repository().get_sensor(name)
        self.instance.stop_sensor(sensor.get_remote_origin_id(), sensor.selector_id, sensor)

    def backfill(self, job: str, partitions: Sequence[str]) -> str:
        """A backfill of ``job`` over ``partitions`` for the daemon to carry out, as the UI's launch of
        a job backfill leaves it (a job whose assets backfill in a single run gets one ranged run);
        return its id."""
        (partition_set,) = [s for s in self.repository().get_partition_sets() if s.job_name == job]
        backfill = PartitionBackfill(
            backfill_id=make_new_backfill_id(),
            partition_set_origin=partition_set.get_remote_origin(),
            status=BulkActionStatus.REQUESTED,
            partition_names=list(partitions),
            from_failure=False,
            reexecution_steps=None,
            tags={},
            backfill_timestamp=time.time(),
        )
        self.instance.add_backfill(backfill)
        return backfill.backfill_id

    def finished_backfill(self, backfill_id: str, timeout: float = 1500) -> list[dg.DagsterRun]:
        """The runs of a backfill once it has ended, each of which succeeded (or the reasons)."""

        def ended() -> bool:
            backfill = self.instance.get_backfill(backfill_id)
            return backfill is not None and backfill.status in BULK_ACTION_TERMINAL_STATUSES

        self.wait_for(f"backfill {backfill_id} ends", ended, timeout)
        backfill = self.instance.get_backfill(backfill_id)
        assert backfill is not None
        runs = [
            self.finished(run.run_id)
            for run in self.instance.get_runs(dg.RunsFilter.for_backfill(backfill_id))
        ]
        assert backfill.status == BulkActionStatus.COMPLETED_SUCCESS, (
            f"backfill {backfill_id} is {backfill.status.value}: {backfill.error}\n{self.daemon.tail()}"
        )
        return runs

    def wait_for(self, what: str, done: Callable[[], bool], timeout: float) -> None:
        wait_for(what, done, timeout, *self.services)

    def finished(self, run_id: str, timeout: float = 900) -> dg.DagsterRun:
        """The run once it has ended; its failure events and the services' logs when it did not
        succeed."""
        self.wait_for(
            f"run {run_id} ends",
            lambda: self.instance.get_run_by_id(run_id).status in FINISHED_STATUSES,  # type: ignore[union-attr]
            timeout,
        )
        run = self.instance.get_run_by_id(run_id)
        assert run is not None
        if run.status != dg.DagsterRunStatus.SUCCESS:
            errors = [
                f"{event.event_type_value} {e.step_key or ''}: {event.message or e.user_message}"
                for e in self.instance.all_logs(run_id)
                if (event := e.dagster_event) and event.is_failure
            ]
            raise AssertionError(
                f"run {run_id} ({run.job_name}) is {run.status.value}:\n"
                + "\n".join(errors)
                + "\n"
                + "\n".join(s.tail() for s in self.services)
            )
        return run


@contextmanager
def running_platform(home: Path, env: Mapping[str, str]) -> Iterator[Platform]:
    """Instance in ``home`` (written from infra/dagster), code server and daemon in the environment
    ``env``: the whole environment, with the platform's settings and the DAGSTER_PG_* variables of
    infra/dagster/dagster.yaml (the daemon gets the password as a file, as in a container, and sets
    the pools of CITY_POOL_LIMITS when ``env`` has it). All stopped when the block ends. The calling
    process opens the instance too, so it needs the same DAGSTER_PG_* in its own environment."""
    port = free_port()
    write_instance(home)
    workspace = write_workspace(home, port)
    env = {**env, "DAGSTER_HOME": str(home), "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}
    daemon_env = {k: v for k, v in env.items() if k != "DAGSTER_PG_PASSWORD"}
    password_file = home / "pg-password"
    password_file.write_text(env["DAGSTER_PG_PASSWORD"])
    daemon_env["DAGSTER_PG_PASSWORD_FILE"] = str(password_file)
    with ExitStack() as stack:
        instance = stack.enter_context(dg.DagsterInstance.from_config(str(home)))
        server = stack.enter_context(code_server(env, port, home / "code-server.log"))
        runner = stack.enter_context(daemon(daemon_env, workspace, instance, home / "daemon.log"))
        target = WorkspaceFileTarget(paths=[str(workspace)])
        context = stack.enter_context(WorkspaceProcessContext(instance, target))
        yield Platform(instance, workspace, context, server, runner)

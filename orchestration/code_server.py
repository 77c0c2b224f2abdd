"""The code server of a platform on one machine (the default run launcher), whose runs start with the
code location already built: ``dagster api grpc --module-name orchestration.definitions`` with the
same arguments otherwise.

Under the default run launcher the code server starts each run worker, and the run worker's
multiprocess executor a process per step. Dagster spawns both: a new interpreter that imports
Dagster, dbt, DuckDB and the domains and builds the definitions again (dbt's import alone is seconds
of CPU), once for the run worker and once for its steps' forkserver, on every run. Here both are
forks of one warm process instead: the server starts a forkserver that preloads
``orchestration.step_server`` (which builds the definitions) and forks run workers from it, and a
run worker's steps fork from the same forkserver. A run works with the definitions the server was
started with, as it did when spawned from it. Runs are still launched by the default run launcher
and their steps run by the multiprocess executor, each step a process of its own.

Neither Dagster nor Python offers that publicly, so this module holds the two hooks, both checked
by tests/orchestration/test_code_server.py against the pinned versions (Dagster 1.13.27,
CPython 3.11):

- ``DagsterApiServer._mp_ctx``: the multiprocessing context the server starts run workers with,
  ``spawn`` hard-coded in its ``__init__``; set to a forkserver context after it.
- ``ForkServer.ensure_running``: in a child of a forkserver, CPython 3.11 starts a new forkserver
  (its docstring says a child "will just reuse the forkserver started by its parent", its code does
  not); ``reuse_inherited_forkserver`` makes it reuse the one the child was forked from.

In containers (the Docker and Kubernetes run launchers) a run is a container of its own and the code
server starts none; the image keeps ``dagster api grpc``.

    python -m orchestration.code_server --host 127.0.0.1 --port 4000 --location-name smart_city
"""

import multiprocessing
import sys
from collections.abc import Callable
from multiprocessing import forkserver
from typing import Any

CODE_LOCATION = "orchestration.definitions"
WARM = "orchestration.step_server"


def reuse_inherited_forkserver() -> None:
    """Let a process forked by a forkserver start its own children from that forkserver.

    Called in the forkserver (by ``orchestration.step_server``), so every process it forks inherits
    it. Such a child holds the server's address and its "alive" pipe but not its pid, from which
    CPython 3.11 concludes that no server runs and starts a cold one.
    """
    server = forkserver.ForkServer
    original: Callable[[forkserver.ForkServer], None] = server.ensure_running
    if getattr(original, "reuses_inherited", False):
        return

    def ensure_running(self: forkserver.ForkServer) -> None:
        inherited = self._forkserver_pid is None and self._forkserver_alive_fd is not None
        if not (inherited and self._forkserver_address is not None):
            original(self)

    ensure_running.reuses_inherited = True  # type: ignore[attr-defined]
    server.ensure_running = ensure_running  # type: ignore[method-assign]


def fork_run_workers(server: Any) -> None:
    """Make a constructed ``DagsterApiServer`` start run workers from a warm forkserver, starting
    that forkserver now (it builds the definitions while the server waits for its first run)."""
    if not isinstance(getattr(server, "_mp_ctx", None), multiprocessing.context.SpawnContext):
        raise RuntimeError(
            "dagster's DagsterApiServer no longer starts run workers from self._mp_ctx (a spawn "
            "context): orchestration/code_server.py needs updating for this Dagster version"
        )
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([WARM])
    forkserver.ensure_running()
    server._mp_ctx = context


def main() -> None:
    from dagster._cli import main as dagster_main
    from dagster._grpc.server import DagsterApiServer

    original = DagsterApiServer.__init__

    def init(server: DagsterApiServer, *args: Any, **kwargs: Any) -> None:
        original(server, *args, **kwargs)
        fork_run_workers(server)

    DagsterApiServer.__init__ = init  # type: ignore[method-assign]
    sys.argv = ["dagster", "api", "grpc", "--module-name", CODE_LOCATION, *sys.argv[1:]]
    dagster_main()


if __name__ == "__main__":
    main()

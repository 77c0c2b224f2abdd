"""The code server of a platform on one machine (the default run launcher), whose run workers start
with the code location already built: ``dagster api grpc --module-name orchestration.definitions``
with the same arguments otherwise.

Under the default run launcher the code server starts each run worker. Dagster's server spawns it:
a new interpreter that imports Dagster, dbt, DuckDB and the domains and builds the definitions again
before its first step, seconds of CPU on every run. Here the server forks it instead, from a
forkserver that has done that once (``orchestration.step_server``, the module the multiprocess
executor's step servers preload): a run worker is a fork of a warm process, as a step already is.
A run works with the definitions the server was started with, as it did when spawned from it.

In containers (the Docker and Kubernetes run launchers) a run is a container of its own and the
code server starts none; the image keeps ``dagster api grpc``.

    python -m orchestration.code_server --host 127.0.0.1 --port 4000 --location-name smart_city
"""

import multiprocessing
import sys
from typing import Any

from dagster._cli import main as dagster_main
from dagster._grpc.server import DagsterApiServer

CODE_LOCATION = "orchestration.definitions"
WARM = "orchestration.step_server"


def _forking_server_init(original: Any) -> Any:
    """``DagsterApiServer.__init__`` that then starts run workers from a warm forkserver (the
    pinned Dagster takes its multiprocessing context from ``_mp_ctx``, which it sets to spawn)."""

    def init(server: DagsterApiServer, *args: Any, **kwargs: Any) -> None:
        original(server, *args, **kwargs)
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([WARM])
        from multiprocessing import forkserver

        forkserver.ensure_running()  # builds while the server waits for its first run
        server._mp_ctx = context  # type: ignore[assignment]

    return init


def main() -> None:
    DagsterApiServer.__init__ = _forking_server_init(DagsterApiServer.__init__)  # type: ignore[method-assign]
    sys.argv = ["dagster", "api", "grpc", "--module-name", CODE_LOCATION, *sys.argv[1:]]
    dagster_main()


if __name__ == "__main__":
    main()

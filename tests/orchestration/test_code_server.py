"""The two private hooks of the one-machine code server (orchestration/code_server.py) against the
installed Dagster and CPython: should an upgrade move what they hook, these fail, not the runs."""

from __future__ import annotations

import inspect
import logging
import multiprocessing
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from dagster._core.utils import FuturesAwareThreadPoolExecutor
from dagster._grpc.server import DagsterApiServer

from orchestration.code_server import fork_run_workers

ROOT = Path(__file__).resolve().parents[2]

# A forkserver that preloads this module (it applies the hook, as orchestration.step_server does)
# forks ``parent``, which starts ``child``: both print the pid of the process that forked them.
PROBE = """
import multiprocessing
import os

from orchestration.code_server import reuse_inherited_forkserver

reuse_inherited_forkserver()


def child() -> None:
    print("child", os.getppid(), flush=True)


def parent() -> None:
    print("parent", os.getppid(), flush=True)
    process = multiprocessing.get_context("forkserver").Process(target=child)
    process.start()
    process.join()


if __name__ == "__main__":
    import probe

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["probe"])
    process = context.Process(target=probe.parent)
    process.start()
    process.join()
"""


def test_dagster_starts_run_workers_from_the_hooked_context() -> None:
    server = DagsterApiServer(
        server_termination_event=threading.Event(),
        logger=logging.getLogger(__name__),
        server_threadpool_executor=FuturesAwareThreadPoolExecutor(max_workers=1),
    )
    assert isinstance(server._mp_ctx, multiprocessing.context.SpawnContext)
    assert "self._mp_ctx.Process(" in inspect.getsource(DagsterApiServer.StartRun)


def test_the_hook_refuses_a_server_without_the_context() -> None:
    with pytest.raises(RuntimeError, match="no longer starts run workers"):
        fork_run_workers(object())


def test_a_forked_process_forks_its_children_from_the_same_forkserver(tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(textwrap.dedent(PROBE))
    result = subprocess.run(
        [sys.executable, str(tmp_path / "probe.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"},
        check=True,
    )
    forked_by = dict(line.split() for line in result.stdout.splitlines())
    assert forked_by.keys() == {"parent", "child"}
    assert forked_by["child"] == forked_by["parent"]

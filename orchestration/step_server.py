"""Preloaded by the forkserver of a launched run's multiprocess executor (``STEP_EXECUTOR``) and by
the one-machine code server's forkserver (``orchestration.code_server``), and imported nowhere
else: the server builds the code location once, and each step or run forked from it starts with the
definitions built instead of importing and building them itself. A run worker forked from it forks
its steps from it too (``reuse_inherited_forkserver``). It imports the instance's storage
classes too (dagster_postgres brings SQLAlchemy's driver and alembic: seconds of imports), which
every run worker and step loads to open the instance from its reference; it opens no connection.

A run's forkserver lives as long as the run (the code server's, as long as the server), so its steps
share the definitions the run started with. Should building fail here, the steps build for
themselves and report the error as a step failure, instead of a forkserver dying with it.
"""

import contextlib
import importlib
import os

from dagster._core.instance.ref import InstanceRef

from orchestration import definitions
from orchestration.code_server import reuse_inherited_forkserver


def _import_instance_storage() -> None:
    """Import the classes named by ``$DAGSTER_HOME/dagster.yaml`` (none without it)."""
    if home := os.environ.get("DAGSTER_HOME"):
        ref = InstanceRef.from_dir(home)
        named = (ref.storage_data, ref.run_storage_data, ref.event_storage_data, ref.compute_logs_data)
        for data in named:
            if data is not None:
                importlib.import_module(data.module_name)


reuse_inherited_forkserver()
with contextlib.suppress(Exception):
    definitions.prebuild()
with contextlib.suppress(Exception):
    _import_instance_storage()

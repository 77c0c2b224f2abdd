"""Preloaded by the forkserver of a launched run's multiprocess executor (``STEP_EXECUTOR``), and
imported nowhere else: the server builds the code location once, and each step forked from it starts
with the definitions built instead of importing and building them itself.

A run's forkserver lives as long as the run, so its steps share the definitions the run started
with. Should building fail here, the steps build for themselves and report the error as a step
failure, instead of a forkserver dying with it.
"""

import contextlib

from orchestration import definitions

with contextlib.suppress(Exception):
    definitions.prebuild()

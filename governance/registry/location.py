"""Where the governance registry lives: ``CITY_GOVERNANCE_REGISTRY``, else the YAML beside this module.

Pointing the setting at another folder moves the whole platform (checks, CLI, scorecard) to it, so a
test or a rehearsal of a re-organisation never edits the committed files.
"""

from __future__ import annotations

from pathlib import Path

from cityplatform.settings import load_settings

REGISTRY_DIR = Path(__file__).parent


def registry_dir() -> Path:
    return load_settings().governance_registry or REGISTRY_DIR

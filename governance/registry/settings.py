"""Where the governance registry and the ownership ledger live.

Both default to what the city runs with: the YAML files committed beside this module and a
dedicated ``governance`` bucket. ``CITY_GOVERNANCE_REGISTRY`` points the whole platform (checks,
CLI, scorecard) at another registry folder, so a test or a rehearsal of a re-organisation never
edits the committed files; ``CITY_OWNERSHIP_LEDGER`` moves the ledger the same way.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REGISTRY_DIR = Path(__file__).parent
DEFAULT_LEDGER = "s3://governance/ownership-ledger/"


class GovernanceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITY_", env_file=".env", extra="ignore")

    governance_registry: Path = Field(default=REGISTRY_DIR, description="Folder of the registry YAML.")
    ownership_ledger: str = Field(
        default=DEFAULT_LEDGER, pattern=r"^s3://[a-z0-9.-]{3,63}/.*$", description="s3://bucket/prefix/"
    )


def registry_dir() -> Path:
    return GovernanceSettings().governance_registry

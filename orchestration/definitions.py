"""The platform's one Dagster code location: domains load from ``defs/``, governance applies to all."""

import warnings
from functools import partial
from pathlib import Path

import dagster as dg

from orchestration.defs.governance.checks import judge_owners, with_steward_checks
from orchestration.lib.code_location import RESOURCE_KEY, catalog
from orchestration.lib.lineage import LineageResource
from orchestration.lib.ownership import apply_ownership, registry_ownership
from orchestration.lib.resources import STEWARD_JUDGE, CityStorage, VisionInputs
from orchestration.lib.vision_workers import VisionWorkers

# Each step of a launched run is a process of its own (the multiprocess executor). Forked from a
# server that has already imported and built the code location (orchestration.step_server), a step
# skips importing dbt, DuckDB, polars and the domains and building the definitions again: about 8 s
# of CPU per step here, then about 2 s, now nothing.
STEP_EXECUTOR = dg.multiprocess_executor.configured(
    {"start_method": {"forkserver": {"preload_modules": ["orchestration.step_server"]}}},
    name="forked_multiprocess",
)

# The definitions a run's step server built before forking its steps; None in any other process.
_built: dg.Definitions | None = None


@dg.definitions
def defs() -> dg.Definitions:
    return _built or build()


def prebuild() -> None:
    """Build the definitions once for the processes this one will fork (the steps of one run)."""
    global _built
    _built = build()


def build() -> dg.Definitions:
    domains = dg.load_from_defs_folder(project_root=Path(__file__).parent.parent)
    resources = dg.Definitions(
        resources={
            "storage": CityStorage(),
            "lineage": LineageResource(),
            "vision": VisionInputs(),
            "vision_workers": VisionWorkers(),
            STEWARD_JUDGE: dg.ResourceDefinition.hardcoded_resource(judge_owners),
        }
    )
    owners = partial(apply_ownership, ownership=registry_ownership())  # files only; the ledger in runs
    with warnings.catch_warnings():  # map_asset_specs is "preview" in the pinned Dagster; we rely on it
        warnings.simplefilter("ignore", dg.PreviewWarning)
        governed = dg.Definitions.merge(domains, resources).map_asset_specs(func=owners)
    checked = with_steward_checks(governed)
    location = dg.Definitions(resources={RESOURCE_KEY: catalog(checked)}, executor=STEP_EXECUTOR)
    return dg.Definitions.merge(checked, location)

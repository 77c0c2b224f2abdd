"""The platform's one Dagster code location: domains load from ``defs/``, governance applies to all."""

import warnings
from functools import partial
from pathlib import Path

import dagster as dg

from orchestration.defs.governance.checks import with_steward_checks
from orchestration.lib.code_location import RESOURCE_KEY, catalog
from orchestration.lib.lineage import LineageResource
from orchestration.lib.ownership import apply_ownership, registry_ownership
from orchestration.lib.resources import CityStorage


@dg.definitions
def defs() -> dg.Definitions:
    domains = dg.load_from_defs_folder(project_root=Path(__file__).parent.parent)
    resources = dg.Definitions(
        resources={
            "storage": CityStorage(),
            "lineage": LineageResource(),
            "pipes_subprocess_client": dg.PipesSubprocessClient(),
        }
    )
    owners = partial(apply_ownership, ownership=registry_ownership())  # files only; the ledger in runs
    with warnings.catch_warnings():  # map_asset_specs is "preview" in the pinned Dagster; we rely on it
        warnings.simplefilter("ignore", dg.PreviewWarning)
        governed = dg.Definitions.merge(domains, resources).map_asset_specs(func=owners)
    checked = with_steward_checks(governed)
    return dg.Definitions.merge(checked, dg.Definitions(resources={RESOURCE_KEY: catalog(checked)}))

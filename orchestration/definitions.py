"""The platform's one Dagster code location: domains load from ``defs/``, governance applies to all."""

import warnings
from pathlib import Path

import dagster as dg

from orchestration.lib.ownership import apply_ownership
from orchestration.lib.resources import CityStorage


@dg.definitions
def defs() -> dg.Definitions:
    domains = dg.load_from_defs_folder(project_root=Path(__file__).parent.parent)
    resources = dg.Definitions(resources={"storage": CityStorage()})
    with warnings.catch_warnings():  # map_asset_specs is "preview" in the pinned Dagster; we rely on it
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.Definitions.merge(domains, resources).map_asset_specs(func=apply_ownership)

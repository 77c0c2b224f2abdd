"""What governance assets need to know of the whole code location, handed to them as a resource.

The scorecards count the open failures of every check, and retention governs assets of every domain,
but a run's context has no repository when it runs in process (``city demo``, the tests) and a job's
asset graph holds only that job's assets. So ``orchestration.definitions`` reads this catalogue from
the definitions it assembles, without resolving them (no job or resource is validated twice), and
hands it in as the ``code_location`` resource: no domain imports another's modules, and nothing
imports the definitions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg

RESOURCE_KEY = "code_location"


@dataclass(frozen=True)
class CodeLocationCatalog:
    """Every asset's spec (owners and registry metadata applied) and every check's key."""

    specs: Mapping[dg.AssetKey, dg.AssetSpec]
    check_keys: frozenset[dg.AssetCheckKey]


def specs_of(item: dg.AssetsDefinition | dg.AssetSpec) -> list[dg.AssetSpec]:
    """The specs of one entry of ``Definitions.assets``: a definition's, or the bare spec."""
    return list(item.specs) if isinstance(item, dg.AssetsDefinition) else [item]


def asset_specs(definitions: dg.Definitions) -> dict[dg.AssetKey, dg.AssetSpec]:
    """The spec of every asset in ``definitions``, whether defined by a function or a bare spec."""
    return {spec.key: spec for item in definitions.assets or () for spec in specs_of(item)}


def catalog(definitions: dg.Definitions) -> CodeLocationCatalog:
    """The catalogue of ``definitions``: checks declared with their assets and checks of their own."""
    with_checks = [a for a in definitions.assets or () if isinstance(a, dg.AssetsDefinition)]
    with_checks += definitions.asset_checks or ()
    check_keys = frozenset(key for item in with_checks for key in item.check_keys)
    return CodeLocationCatalog(asset_specs(definitions), check_keys)

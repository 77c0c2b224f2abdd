"""Stewardship judged before the dbt build, so a failing owner blocks every consumer, not one hop.

The ``steward_trained`` checks of dbt models are judged in steps beside the dbt step, after dbt has
rebuilt the warehouse: on their own they would stop a department's publication but not the models
that read a failing dataset. So the dbt step first judges the owners of everything its selected
models read, transitively (sources, seeds and models), and leaves out of the build every model
downstream of a dataset whose check fails. The failing dataset itself is still built and its own
check still fails in its step (the UI shows where the problem is); what reads it keeps its last
good rows, is not materialised, and so is not published (a publication reads every mart of its
department); its status object in the department bucket says why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator

BUILT = ("model", "seed", "snapshot")


def node_keys(manifest: Mapping[str, Any], translator: DagsterDbtTranslator) -> dict[str, dg.AssetKey]:
    """unique_id -> asset key, for every model, seed, snapshot and source of the manifest."""
    nodes = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] in BUILT}
    return {uid: translator.get_asset_key(props) for uid, props in {**nodes, **manifest["sources"]}.items()}


def upstream(manifest: Mapping[str, Any], unique_ids: Iterable[str]) -> set[str]:
    """Every node ``unique_ids`` read, directly or not (tests and macros aside)."""
    parents, seen = manifest["parent_map"], set()
    todo = [p for uid in unique_ids for p in parents.get(uid, [])]
    while todo:
        uid = todo.pop()
        if uid not in seen and not uid.startswith("test."):
            seen.add(uid)
            todo += parents.get(uid, [])
    return seen


def blocked_models(
    manifest: Mapping[str, Any], selected: Iterable[str], failing: Mapping[str, str]
) -> dict[str, str]:
    """The selected models that read (transitively) a node in ``failing`` (unique_id -> why its
    owners fail), each with the reasons of what it reads; a failing node is not blocked by its own
    failure, only by a failing node it reads."""
    blocked = {}
    for uid in selected:
        if causes := sorted(upstream(manifest, [uid]) & set(failing)):
            blocked[uid] = "; ".join(failing[c] for c in causes)
    return blocked

"""What the Dagster instance remembers about assets: last materialisation, latest check results,
and the ownership ledger's head as the scorecards last saw it.

Shared by the scorecard asset, the ``steward_trained`` check, ``city stewards me`` and
``city stewards verify``; no definitions here.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg

from governance.registry.registry import Registry
from governance.stewardship.ledger import LedgerEntry, continues
from governance.stewardship.ledger_store import (
    CurrentOwnership,
    LedgerBroken,
    OwnershipLedger,
    current_ownership,
)
from governance.stewardship.profile import DatasetFacts
from orchestration.lib.metadata import plain

# Materialisation metadata naming the ledger an asset read: where, how many entries, the last hash.
LEDGER_LOCATION = "ownership_ledger"
LEDGER_ENTRIES = "ownership_ledger_entries"
LEDGER_HEAD = "ownership_ledger_head"


def run_date(instance: dg.DagsterInstance, run_id: str, zone: ZoneInfo) -> date:
    """The day the run was created, in the city's time: the date stewardship is judged on."""
    record = instance.get_run_record_by_id(run_id)
    created = record.create_timestamp if record else datetime.now(UTC)
    return created.astimezone(zone).date()


@dataclass(frozen=True)
class CheckState:
    dataset: str
    check: str
    outcome: str  # passed | warn | failed | not evaluated (planned, but its run never got to it)
    at: datetime
    run_id: str

    @property
    def open_failure(self) -> bool:
        return self.outcome == "failed"


def latest_check_states(
    instance: dg.DagsterInstance, check_keys: Iterable[dg.AssetCheckKey]
) -> dict[dg.AssetCheckKey, CheckState]:
    """The latest evaluation of each check that has ever run on this instance."""
    states: dict[dg.AssetCheckKey, CheckState] = {}
    for key in check_keys:
        record = instance.get_latest_asset_check_evaluation_record(key)
        if record is None:
            continue
        evaluation = record.event.asset_check_evaluation if record.event else None
        if evaluation is None:  # a planned check whose run has not reached it, or never will
            outcome = "not evaluated"
        elif evaluation.passed:
            outcome = "passed"
        else:
            outcome = "warn" if evaluation.severity is dg.AssetCheckSeverity.WARN else "failed"
        at = datetime.fromtimestamp(record.create_timestamp, UTC)
        states[key] = CheckState(key.asset_key.to_user_string(), key.name, outcome, at, record.run_id)
    return states


def last_materialized(
    instance: dg.DagsterInstance, keys: Iterable[dg.AssetKey]
) -> dict[dg.AssetKey, datetime]:
    """When each asset was last materialised (any partition); assets never materialised are absent."""
    events = instance.get_latest_materialization_events(list(keys))
    return {key: datetime.fromtimestamp(event.timestamp, UTC) for key, event in events.items() if event}


def dataset_facts(
    definitions: dg.Definitions, instance: dg.DagsterInstance | None
) -> dict[str, DatasetFacts]:
    """Per dataset: latest check outcomes and last materialisation (when an instance is at hand)
    and the assets that read it directly, from the code location's asset graph."""
    graph = definitions.resolve_asset_graph()
    keys = list(graph.get_all_asset_keys())
    checks = latest_check_states(instance, graph.asset_check_keys) if instance else {}
    materialized = last_materialized(instance, keys) if instance else {}
    outcomes: dict[str, dict[str, tuple[str, datetime]]] = {}
    for state in checks.values():
        outcomes.setdefault(state.dataset, {})[state.check] = (state.outcome, state.at)
    return {
        key.to_user_string(): DatasetFacts(
            checks=outcomes.get(key.to_user_string(), {}),
            last_materialized=materialized.get(key),
            downstream=tuple(sorted(child.to_user_string() for child in graph.get(key).child_keys)),
        )
        for key in keys
    }


def ledger_metadata(ledger: OwnershipLedger, entries: tuple[LedgerEntry, ...]) -> dict[str, Any]:
    """What a materialisation records of the ledger it read, for :func:`anchored_ownership` to check."""
    return {
        LEDGER_LOCATION: ledger.uri(),
        LEDGER_ENTRIES: len(entries),
        LEDGER_HEAD: entries[-1].hash if entries else "empty",
    }


@dataclass(frozen=True)
class LedgerAnchor:
    """The ledger's length and head as the latest materialisation that read it recorded them."""

    recorded_by: str  # the asset
    at: datetime
    entries: int
    head: str  # "empty" for a ledger with no entries

    def problem(self, entries: Sequence[LedgerEntry]) -> str | None:
        """Why ``entries`` do not continue the anchored chain (newest removed, or rewritten), or None."""
        return continues(entries, self.entries, self.head)


def ledger_anchor(
    instance: dg.DagsterInstance, ledger: OwnershipLedger, recorded_by: Iterable[dg.AssetKey]
) -> LedgerAnchor | None:
    """What the latest materialisation of ``recorded_by`` recorded of ``ledger``; None when none
    was recorded, or the latest was for another ledger location. The event log lives apart from
    the object store, so deleting a handover's entry (with the ones after it) cannot go unseen."""
    latest_events = instance.get_latest_materialization_events(list(recorded_by))
    events = [(key, event) for key, event in latest_events.items() if event]
    if not events:
        return None
    key, latest = max(events, key=lambda item: item[1].timestamp)
    metadata = latest.asset_materialization.metadata if latest.asset_materialization else {}
    if plain(metadata.get(LEDGER_LOCATION)) != ledger.uri():
        return None
    return LedgerAnchor(
        key.to_user_string(),
        datetime.fromtimestamp(latest.timestamp, UTC),
        int(plain(metadata[LEDGER_ENTRIES])),
        str(plain(metadata[LEDGER_HEAD])),
    )


def anchored_ownership(
    instance: dg.DagsterInstance,
    registry: Registry,
    ledger: OwnershipLedger,
    recorded_by: Iterable[dg.AssetKey],
) -> CurrentOwnership:
    """Current ownership, or LedgerBroken when the ledger no longer holds the head that the latest
    materialisation of ``recorded_by`` recorded for it (:func:`ledger_anchor`)."""
    current = current_ownership(registry, ledger)
    anchor = ledger_anchor(instance, ledger, recorded_by)
    problem = anchor.problem(current.entries) if anchor else None
    if anchor and problem:
        raise LedgerBroken(
            f"ownership ledger at {ledger.uri()} does not continue the one "
            f"{anchor.recorded_by} read at {anchor.at.isoformat(timespec='seconds')}: {problem}"
        )
    return current

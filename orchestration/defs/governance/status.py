"""What the Dagster instance remembers about assets: last materialisation and latest check results.

Shared by the scorecard asset and ``city stewards me``; no definitions here.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import dagster as dg

from governance.stewardship.profile import DatasetFacts


def run_date(instance: dg.DagsterInstance, run_id: str, timezone: str) -> date:
    """The day the run was created, in the city's time: the date stewardship is judged on."""
    record = instance.get_run_record_by_id(run_id)
    created = record.create_timestamp if record else datetime.now(UTC)
    return created.astimezone(ZoneInfo(timezone)).date()


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

"""The incidents sensor: a failed blocking check gets an incident with an owner who is told, escalated
until someone acknowledges it, and closed when the check passes again (``governance.incidents``).

It reads what the instance recorded (the latest evaluation of every blocking check of the code
location) and requests no runs. Owners are the current ones, registry baseline plus the ownership
ledger anchored as the checks read it: a ledger that does not verify fails the tick rather than
route incidents to people who may no longer own the data.
"""

from datetime import UTC, datetime

import dagster as dg

from cityplatform.yamlfiles import RegistryError
from governance.incidents.channels import make_channel
from governance.incidents.config import load_incident_settings
from governance.incidents.rules import Observation
from governance.incidents.service import contacts_for, run_pass
from governance.incidents.store import IncidentStore
from governance.registry.registry import load_registry
from governance.stewardship.ledger_store import OwnershipLedger
from orchestration.defs.governance.keys import SCORECARDS
from orchestration.defs.governance.status import anchored_ownership, latest_check_states
from orchestration.lib.resources import CityStorage


def blocking_observations(
    instance: dg.DagsterInstance, definitions: dg.RepositoryDefinition
) -> list[Observation]:
    """The latest evaluation of each blocking check of ``definitions`` recorded on ``instance``."""
    graph = definitions.asset_graph
    blocking = [key for key in graph.asset_check_keys if graph.get_check_spec(key).blocking]
    observations = []
    for key, state in sorted(latest_check_states(instance, blocking).items(), key=lambda item: str(item[0])):
        if state.outcome == "not evaluated":
            continue
        failed = state.outcome == "failed"
        observations.append(
            Observation(
                state.dataset,
                state.check,
                failed,
                state.at,
                state.run_id,
                _reason(instance, key) if failed else "",
            )
        )
    return observations


def _reason(instance: dg.DagsterInstance, key: dg.AssetCheckKey) -> str:
    """The failing evaluation's own description, for the notice (what the check said was wrong)."""
    record = instance.get_latest_asset_check_evaluation_record(key)
    evaluation = record.event.asset_check_evaluation if record and record.event else None
    return (evaluation.description or "") if evaluation else ""


def evaluate_incidents(
    context: dg.SensorEvaluationContext, storage: CityStorage, now: datetime
) -> dg.SkipReason:
    """One pass at ``now`` (the sensor passes the clock; a test passes its own)."""
    if context.repository_def is None:
        raise dg.DagsterInvariantViolationError("the incidents sensor needs the code location's definitions")
    settings = storage.settings()
    config = load_incident_settings(settings)
    try:
        registry = load_registry()
    except RegistryError as exc:
        # Nobody can be named owner or notified without the registry; every steward_trained check
        # already fails with this line, so the tick says it rather than failing with a traceback.
        return dg.SkipReason(f"no incidents opened while the registry is unusable: {exc}")
    store = storage.store()
    current = anchored_ownership(context.instance, registry, OwnershipLedger(store), SCORECARDS.values())
    contacts = contacts_for(current.datasets, registry.staff)
    result = run_pass(
        IncidentStore(store),
        make_channel(config, settings),
        config.smtp_from,
        blocking_observations(context.instance, context.repository_def),
        contacts,
        now,
        config.delays,
    )
    for incident in result.opened:
        context.log.info(f"opened {incident.id}: {incident.check} failed on {incident.dataset}")
    for incident in result.closed:
        context.log.info(f"closed {incident.id}: {incident.check} on {incident.dataset} no longer fails")
    for incident_id, notification in result.notified:
        who = notification.staff or "nobody"
        context.log.info(
            f"{incident_id}: {notification.level} {who}: {notification.outcome} {notification.detail}"
        )
    return dg.SkipReason(result.summary())


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Incidents for failed blocking checks: opens one (dataset, check, owner = current steward) in "
        "s3://governance/incidents/ and tells the steward through CITY_INCIDENT_CHANNEL (an .eml outbox "
        "on the laptop, SMTP in production); unacknowledged, it escalates to the deputy after "
        "CITY_INCIDENT_ESCALATE_DEPUTY_AFTER and the department head after "
        "CITY_INCIDENT_ESCALATE_HEAD_AFTER; closes when the check passes again. Requests no runs."
    ),
)
def incidents_sensor(context: dg.SensorEvaluationContext, storage: CityStorage) -> dg.SkipReason:
    return evaluate_incidents(context, storage, datetime.now(UTC))

"""``city incidents``: incidents opened for failed blocking checks, and taking one on.

Exit codes: 0 done; 2 bad arguments, an unknown or closed incident, someone who may not
acknowledge it, or nobody established as running the command; 3 object store unreachable;
4 the ownership ledger does not verify (who owns the dataset cannot be trusted).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from cityplatform.exits import (
    EXIT_CONFIG,
    EXIT_DATA,
    EXIT_STORAGE,
    console,
    err_console,
    exit_on,
    fail,
    settings_or_exit,
)
from cityplatform.objectstore import ObjectStore, ObjectStoreError
from cityplatform.output import JSON_OPTION, print_json
from cityplatform.yamlfiles import RegistryError
from governance.incidents.model import Acknowledgement, Incident
from governance.incidents.service import contacts_for, may_acknowledge
from governance.incidents.store import IncidentStore, UnknownIncident
from governance.registry.registry import load_registry
from governance.stewardship.identity import IdentityError, identify
from governance.stewardship.ledger_store import LedgerBroken, OwnershipLedger, current_ownership

app = typer.Typer(
    help="Incidents: failed blocking checks with an owner, notified and escalated until taken on.",
    no_args_is_help=True,
)


def _as_dict(incident: Incident, now: datetime) -> dict[str, Any]:
    return {
        **incident.model_dump(mode="json"),
        "state": "open" if incident.is_open else "closed",
        "level": incident.level,
        "age_hours": round(incident.age(now), 2),
    }


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@app.command("list")
def list_incidents(
    show_all: bool = typer.Option(False, "--all", help="Closed incidents too, not only open ones."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Open incidents, oldest first: dataset, check, owner, who has been told, age, acknowledgement."""
    settings = settings_or_exit()
    store = IncidentStore(ObjectStore.from_settings(settings))
    with exit_on(ObjectStoreError, code=EXIT_STORAGE), err_console.status(f"reading {store.uri()}"):
        incidents = store.all_incidents() if show_all else store.open_incidents()
    now = datetime.now(UTC)
    if as_json:
        print_json([_as_dict(incident, now) for incident in incidents])
        return
    if not incidents:
        console.print("No open incidents." if not show_all else f"No incidents in {store.uri()}.")
        return
    table = Table(title="Incidents" if show_all else "Open incidents")
    table.add_column("id", no_wrap=True)  # typed back after `city incidents ack`: never folded
    table.add_column("dataset", overflow="fold", ratio=2)
    table.add_column("check", overflow="fold", ratio=1)
    for column in ("owner", "told", "age", "ack by"):
        table.add_column(column)
    for incident in incidents:
        ack = incident.acknowledged
        table.add_row(
            incident.id,
            escape(incident.dataset),
            escape(incident.check),
            incident.owner or "[red]nobody[/]",
            "\n".join(incident.reached) or "-",
            f"{incident.age(now):.1f} h" + ("" if incident.is_open else "\n[dim]closed[/]"),
            ack.by if ack else "-",
        )
    console.print(table)


@app.command()
def ack(
    incident_id: str = typer.Argument(..., help="The incident's id, e.g. inc-20261206-3f2a1c."),
    note: str = typer.Option("", "--note", help="What you are doing about it (recorded)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Take an incident on as yourself (CITY_IDENTITY_TOKEN, or in dev CITY_STAFF_ID): escalation
    stops; it closes when the check passes again. Its dataset's steward, deputy or department head,
    or a governance officer, may."""
    settings = settings_or_exit()
    with exit_on(IdentityError, code=EXIT_CONFIG):
        me = identify(os.environ, settings.mode).staff_id
    with exit_on(RegistryError, code=EXIT_CONFIG):
        registry = load_registry()
    objects = ObjectStore.from_settings(settings)
    store = IncidentStore(objects)
    with (
        exit_on(ObjectStoreError, code=EXIT_STORAGE),
        exit_on(LedgerBroken, code=EXIT_DATA),
        exit_on(UnknownIncident, code=EXIT_CONFIG),
        err_console.status(f"reading {incident_id} and the ownership ledger"),
    ):
        incident = store.get(incident_id)
        contacts = contacts_for(
            current_ownership(registry, OwnershipLedger(objects)).datasets, registry.staff
        )
    if not incident.is_open:
        raise fail(
            f"{incident_id} closed at {_when(incident.closed_at)}: nothing to acknowledge", EXIT_CONFIG
        )
    if incident.acknowledged is None:
        if not may_acknowledge(registry.staff.get(me), incident, contacts.get(incident.dataset)):
            raise fail(
                f"{me} may not acknowledge {incident_id}: only the steward, deputy or head of "
                f"{incident.department or 'its department'}, or a governance officer, may",
                EXIT_CONFIG,
            )
        with exit_on(ObjectStoreError, code=EXIT_STORAGE):
            store.acknowledge(Acknowledgement(incident=incident_id, by=me, at=datetime.now(UTC), note=note))
            incident = store.get(incident_id)
        told = f"acknowledged {incident_id} as {me}: no further escalation"
    else:
        done = incident.acknowledged
        told = f"{incident_id} was already acknowledged by {done.by} at {_when(done.at)}"
    if as_json:
        print_json(_as_dict(incident, datetime.now(UTC)))
        return
    console.print(f"{told}; it closes when {incident.check} passes again on {incident.dataset}.")

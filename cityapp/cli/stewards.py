"""``city stewards``: what a steward owns and how they stand, and the ownership ledger.

Exit codes: 0 nothing to do; 2 bad arguments, unknown staff/dataset, refused handover or invalid
registry; 3 object store unreachable; 4 action needed now (``me``: a dataset fails
``steward_trained``, your training for it lapsed or its last check failed; ``verify``: the ledger
is broken); 5 action needed within 30 days (``me``: training expiring); 75 a concurrent handover
took the same ledger position, run again.
"""

from __future__ import annotations

import json
import os
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from cityplatform.exits import (
    EXIT_CONFIG,
    EXIT_DATA,
    EXIT_STORAGE,
    console,
    day_or_exit,
    exit_on,
    fail,
    settings_or_exit,
)
from cityplatform.objectstore import ObjectStore, ObjectStoreError
from cityplatform.settings import Settings
from cityplatform.yamlfiles import RegistryError
from governance.registry.registry import Registry, load_registry
from governance.stewardship.handover import HandoverRefused, plan_handover
from governance.stewardship.ledger_store import (
    LedgerBroken,
    LedgerConflict,
    OwnershipLedger,
    current_ownership,
)
from governance.stewardship.profile import steward_profile

EXIT_RETRY = 75  # sysexits EX_TEMPFAIL


class Role(StrEnum):
    steward = "steward"
    deputy = "deputy"


app = typer.Typer(
    help="Stewards: what you own, your training, and ownership handovers.", no_args_is_help=True
)


def _registry() -> Registry:
    with exit_on(RegistryError, code=EXIT_CONFIG):
        return load_registry()


def _ledger(settings: Settings) -> OwnershipLedger:
    return OwnershipLedger(ObjectStore.from_settings(settings))


def _who(registry: Registry, staff_id: str) -> str:
    member = registry.staff.get(staff_id)
    return f"{staff_id} {member.name}" if member else staff_id


def _instance(settings: Settings) -> tuple[Any, Path]:
    """The Dagster instance the demo and the UI use (DAGSTER_HOME, else the platform's), if it exists."""
    import dagster as dg

    home = Path(os.environ.get("DAGSTER_HOME") or settings.dagster_home)
    return (dg.DagsterInstance.from_config(str(home)) if home.is_dir() else None), home


@app.command()
def me(
    staff_id: str = typer.Option(..., "--staff-id", help="Your staff id, e.g. S-014."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    on: str = typer.Option("", help="Judge training on this day (YYYY-MM-DD); default: today, city time."),
) -> None:
    """The datasets you own or deputise (checks, freshness, consumers) and your training."""
    from cityapp.dagster_home import load_definitions
    from orchestration.defs.governance.status import dataset_facts

    settings = settings_or_exit()
    registry = _registry()
    if staff_id not in registry.staff:
        raise fail(f"unknown staff id {staff_id}: not in {registry.directory / 'staff.yaml'}", EXIT_CONFIG)
    day = day_or_exit(on, "--on") if on else settings.today()
    with exit_on(ObjectStoreError, code=EXIT_STORAGE), exit_on(LedgerBroken, code=EXIT_DATA):
        current = current_ownership(registry, _ledger(settings))
    instance, home = _instance(settings)
    facts = dataset_facts(load_definitions(refresh_manifest=False), instance)  # asset keys only
    profile, attention = steward_profile(registry, current.datasets, staff_id, day, facts)
    profile["dagster_instance"] = str(home) if instance else None
    if as_json:
        typer.echo(json.dumps(profile, indent=2))
    else:
        _print_profile(profile)
        if instance is None:
            console.print(f"No Dagster instance at {home}: last check results and freshness unknown.")
    raise typer.Exit(int(attention))


def _few(names: list[str], shown: int = 3) -> str:
    """Up to ``shown`` names, then how many more (``--json`` lists them all)."""
    more = f"\n(+{len(names) - shown} more)" if len(names) > shown else ""
    return "\n".join(names[:shown]) + more or "-"


def _print_profile(profile: dict[str, Any]) -> None:
    person = profile["staff"]
    console.print(
        f"[bold]{person['id']} {person['name']}[/], {person['role']} ({person['department']})"
        f"{'' if person['active'] else ' [red](not active)[/]'}, judged on {profile['evaluated_on']}"
    )
    table = Table(title="Datasets you own or deputise")
    for column in ("dataset", "role", "class"):
        table.add_column(column, no_wrap=True)
    table.add_column("steward_trained now")
    table.add_column("last checks")
    table.add_column("last materialised (UTC)", no_wrap=True)
    table.add_column("downstream", overflow="fold")
    colour = {"pass": "green", "warn": "yellow", "fail": "red"}
    for d in profile["datasets"]:
        checks = "\n".join(f"{name}: {c['outcome']}" for name, c in sorted(d["checks"].items()))
        status = d["steward_trained_now"]
        table.add_row(
            d["dataset"],
            f"{d['role']}\nwith {d['other_owner']}",
            d["classification"],
            f"[{colour[status]}]{status}[/]" + "".join(f"\n{reason}" for reason in d["reasons"]),
            checks or "-",
            (d["last_materialized"] or "-")[:16].replace("T", " "),
            _few(d["downstream"]),
        )
    console.print(table if profile["datasets"] else "You own or deputise no dataset.")
    training = Table(title="Your training")
    for column in ("course", "completed", "expires", "state"):
        training.add_column(column)
    states = {"current": "green", "expiring": "yellow", "expired": "red", "missing": "dim"}
    for t in profile["training"]:
        state = f"[{states[t['state']]}]{t['state']}[/]"
        training.add_row(t["name"], t["completed_on"] or "-", t["expires_on"] or "-", state)
    console.print(training)
    levels = ", ".join(
        f"{level} {'until ' + q['until'] if q['trained'] else 'no'}"
        for level, q in profile["qualified_for"].items()
    )
    console.print(f"qualified for: {levels}")


@app.command()
def handover(
    dataset: str = typer.Argument(..., help="Asset key path, e.g. iot/bronze/river_gauges."),
    to: str = typer.Option(..., "--to", help="Staff id of the new owner."),
    reason: str = typer.Option(..., "--reason", help="Why ownership changes (recorded)."),
    approved_by: str = typer.Option(..., "--approved-by", help="Staff id of the approver (not the steward)."),
    role: Role = typer.Option(Role.steward, "--role", help="Which owner changes."),
) -> None:
    """Hand a dataset to a successor: one approved, hash-chained entry in the ownership ledger."""
    settings = settings_or_exit()
    registry = _registry()
    ledger = _ledger(settings)
    with exit_on(ObjectStoreError, code=EXIT_STORAGE), exit_on(LedgerBroken, code=EXIT_DATA):
        current = current_ownership(registry, ledger)
        with exit_on(HandoverRefused, code=EXIT_CONFIG), exit_on(LedgerConflict, code=EXIT_RETRY):
            change = plan_handover(
                registry,
                current.datasets,
                dataset=dataset,
                to_staff=to,
                approved_by=approved_by,
                reason=reason,
                on=settings.today(),
                role=role.value,
            )
            entry = ledger.append(change)
    console.print(f"recorded entry {entry.seq} of the ownership ledger: {dataset} {role.value}")
    console.print(f"  {_who(registry, entry.from_staff)} -> {_who(registry, entry.to_staff)}")
    console.print(f"  requested by {_who(registry, entry.requested_by)}")
    console.print(f"  approved by {_who(registry, entry.approved_by)}")
    console.print(f"  {ledger.uri(entry.name)}")
    console.print("steward_trained uses it from the next run; the UI after its code location reloads.")


@app.command()
def history(
    dataset: str = typer.Argument(..., help="Asset key path."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Who owned a dataset when: the registry baseline, then every handover in the ledger."""
    settings = settings_or_exit()
    registry = _registry()
    baseline = registry.ownership.get(dataset)
    if baseline is None:
        raise fail(
            f"unknown dataset {dataset!r}: not in {registry.directory / 'ownership.yaml'}", EXIT_CONFIG
        )
    with exit_on(ObjectStoreError, code=EXIT_STORAGE), exit_on(LedgerBroken, code=EXIT_DATA):
        entries = [e for e in _ledger(settings).entries() if e.dataset == dataset]
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "dataset": dataset,
                    "baseline": baseline.model_dump(),
                    "handovers": [e.model_dump() for e in entries],
                },
                indent=2,
            )
        )
        return
    table = Table(title=f"Ownership of {dataset}")
    for column in ("entry", "change", "approval", "reason"):
        table.add_column(column)
    baseline_owners = f"steward {_who(registry, baseline.steward)}\ndeputy {_who(registry, baseline.deputy)}"
    table.add_row("baseline", baseline_owners, "", f"registry: {registry.directory / 'ownership.yaml'}")
    for e in entries:
        table.add_row(
            f"{e.seq}\n{e.recorded_at}\n{e.hash[:12]}",
            f"{e.role}\n{_who(registry, e.from_staff)}\n-> {_who(registry, e.to_staff)}",
            f"requested by {_who(registry, e.requested_by)}\napproved by {_who(registry, e.approved_by)}",
            e.reason,
        )
    console.print(table)


@app.command()
def verify() -> None:
    """Check the ledger's hash chain; name the first entry that was changed, removed or reordered."""
    settings = settings_or_exit()
    ledger = _ledger(settings)
    with exit_on(ObjectStoreError, code=EXIT_STORAGE):
        result = ledger.verify()
    if not result.ok:
        raise fail(
            f"ownership ledger broken at entry {ledger.uri(result.broken_at or '')}: {result.problem} "
            f"({len(result.entries)} entries before it verify)",
            EXIT_DATA,
        )
    console.print(
        f"ownership ledger {ledger.uri()}: {len(result.entries)} entries, chain intact, head {result.head}"
    )

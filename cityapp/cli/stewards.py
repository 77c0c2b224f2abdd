"""``city stewards``: what a steward owns and how they stand, and the ownership ledger.

Exit codes: 0 nothing to do; 2 bad arguments, unknown staff/dataset, refused handover, no or an
invalid identity, or invalid registry; 3 object store unreachable; 4 action needed now (``me``: a
dataset fails ``steward_trained``, your training for it lapsed or its last check failed;
``verify``: the chain is broken, or no longer holds the head the scorecards anchored); 5 action
needed within 30 days (``me``: training expiring); 75 a concurrent handover took the same ledger
position, run again.

``handover`` records as its requester the person running it (``governance.stewardship.identity``:
a signed ``CITY_IDENTITY_TOKEN``, or in dev ``CITY_STAFF_ID``), never an argument.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cityplatform.exits import (
    EXIT_CONFIG,
    EXIT_DATA,
    EXIT_STORAGE,
    console,
    day_or_exit,
    err_console,
    exit_on,
    fail,
    settings_or_exit,
)
from cityplatform.objectstore import ObjectStore, ObjectStoreError
from cityplatform.output import JSON_OPTION, print_json
from cityplatform.settings import Settings
from cityplatform.yamlfiles import RegistryError
from governance.registry.registry import Registry, load_registry
from governance.stewardship.handover import HandoverRefused, plan_handover
from governance.stewardship.identity import IdentityError, identify
from governance.stewardship.ledger_store import (
    LedgerBroken,
    LedgerConflict,
    OwnershipLedger,
    current_ownership,
)
from governance.stewardship.profile import steward_profile

EXIT_RETRY = 75  # sysexits EX_TEMPFAIL
WIDE = 120  # columns from which `me` shows one table column per fact; narrower, they are stacked
COLOURS = {"pass": "green", "warn": "yellow", "fail": "red"}


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
    as_json: bool = JSON_OPTION,
    on: str = typer.Option("", help="Judge training on this day (YYYY-MM-DD); default: today, city time."),
) -> None:
    """What you must do first, then the datasets you own or deputise (checks, freshness, consumers)
    and your training."""
    from cityapp.dagster_home import load_definitions
    from orchestration.defs.governance.status import dataset_facts

    settings = settings_or_exit()
    registry = _registry()
    if staff_id not in registry.staff:
        raise fail(f"unknown staff id {staff_id}: not in {registry.directory / 'staff.yaml'}", EXIT_CONFIG)
    day = day_or_exit(on, "--on") if on else settings.today()
    with (
        exit_on(ObjectStoreError, code=EXIT_STORAGE),
        exit_on(LedgerBroken, code=EXIT_DATA),
        err_console.status("reading the ownership ledger"),
    ):
        current = current_ownership(registry, _ledger(settings))
    instance, home = _instance(settings)
    with err_console.status("loading the code location and the latest check results"):
        facts = dataset_facts(load_definitions(refresh_manifest=False), instance)  # asset keys only
    profile, attention = steward_profile(registry, current.datasets, staff_id, day, facts)
    profile["dagster_instance"] = str(home) if instance else None
    profile["actions"] = actions(profile)
    if as_json:
        print_json(profile)
    else:
        print_profile(profile, console)
        if instance is None:
            console.print(f"No Dagster instance at {home}: last check results and freshness unknown.")
    raise typer.Exit(int(attention))


def actions(profile: dict[str, Any]) -> list[str]:
    """What the person must do, most urgent first: a dataset that fails, a check that failed, a
    training to take, then what is due within 30 days. A dataset warning only because of the
    person's own expiring training is the renewal, not one more action."""
    me_, on = profile["staff"]["id"], date.fromisoformat(profile["evaluated_on"])
    now: list[str] = []
    soon: list[str] = []
    untrained = sorted({d["classification"] for d in profile["datasets"] if not d["you_are_trained_for_it"]})
    now += [f"get trained for {level} data" for level in untrained]
    for d in profile["datasets"]:
        others = [reason for reason in d["reasons"] if me_ not in reason]
        if d["steward_trained_now"] == "fail":
            now.append(f"{d['dataset']}: steward_trained fails" + (f" ({others[0]})" if others else ""))
        elif d["steward_trained_now"] == "warn" and others:
            soon.append(f"{d['dataset']}: steward_trained warns ({others[0]})")
        failed = sorted(name for name, check in d["checks"].items() if check["outcome"] == "failed")
        now += [f"{d['dataset']}: check {name} failed" for name in failed]
    for t in profile["training"]:
        if t["state"] == "expiring":
            days = (date.fromisoformat(t["expires_on"]) - on).days
            soon.append(
                f"renew {t['name']} (expires in {days} day{'' if days == 1 else 's'}, {t['expires_on']})"
            )
    return now + soon


def _few(names: list[str], shown: int = 3) -> str:
    """Up to ``shown`` names, then how many more (``--json`` lists them all)."""
    more = f"\n(+{len(names) - shown} more)" if len(names) > shown else ""
    return "\n".join(names[:shown]) + more or "-"


def _summary(todo: list[str], out: Console) -> None:
    """One line first: how many actions and what they are (cut to the width, most urgent first);
    when they do not fit on it, each on a line of its own below."""
    if not todo:
        out.print(
            "[green]No action needed[/]: your datasets pass steward_trained and your training is current."
        )
        return
    line = f"{len(todo)} action{'s' if len(todo) > 1 else ''} needed: " + "; ".join(todo)
    out.print(f"[bold]{escape(line)}[/]", no_wrap=True, overflow="ellipsis", highlight=False)
    if len(line) > out.width:
        for item in todo:
            out.print(f"  - {escape(item)}", highlight=False)


def _trained(d: dict[str, Any]) -> str:
    status = d["steward_trained_now"]
    return f"[{COLOURS[status]}]{status.upper()}[/]" + "".join(
        f"\n{escape(reason)}" for reason in d["reasons"]
    )


def _checks(d: dict[str, Any]) -> str:
    return "\n".join(f"{name}: {c['outcome']}" for name, c in sorted(d["checks"].items())) or "no results"


def _materialised(d: dict[str, Any]) -> str:
    return f"{d['last_materialized'][:16].replace('T', ' ')} UTC" if d["last_materialized"] else "never"


def _datasets_table(profile: dict[str, Any], width: int) -> Table:
    """One column per fact from ``WIDE`` columns; narrower, two columns of stacked facts (what the
    dataset is; how it stands), so that no column is squeezed to nothing at 80."""
    table = Table(title="Datasets you own or deputise")
    if width >= WIDE:
        table.add_column("dataset", overflow="fold", ratio=3)
        table.add_column("role", min_width=10)
        table.add_column("class", no_wrap=True)
        table.add_column("steward_trained now", min_width=14, ratio=3)
        table.add_column("last checks", min_width=14, ratio=2)
        table.add_column("last materialised", min_width=10)
        table.add_column("downstream", overflow="fold", min_width=14, ratio=2)
        for d in profile["datasets"]:
            table.add_row(
                d["dataset"],
                f"{d['role']}\nwith {d['other_owner']}",
                d["classification"],
                _trained(d),
                _checks(d),
                _materialised(d),
                _few(d["downstream"]),
            )
        return table
    table.add_column("dataset", overflow="fold", ratio=1)
    table.add_column("steward_trained now, last checks, downstream", overflow="fold", ratio=1)
    for d in profile["datasets"]:
        folder, _, name = d["dataset"].rpartition("/")
        table.add_row(
            f"{folder}/\n[bold]{name}[/]\n{d['role']} with {d['other_owner']}, {d['classification']}"
            f"\nmaterialised {_materialised(d)}",
            f"{_trained(d)}\n[dim]checks:[/] {_checks(d)}\n[dim]downstream:[/] "
            + _few(d["downstream"]).replace("\n", ", "),
        )
    return table


def print_profile(profile: dict[str, Any], out: Console) -> None:
    """The profile for a person at ``out``'s width: what to do first, then datasets and training."""
    _summary(profile["actions"], out)
    person = profile["staff"]
    out.print(
        f"[bold]{person['id']} {person['name']}[/], {person['role']} ({person['department']})"
        f"{'' if person['active'] else ' [red](not active)[/]'}, judged on {profile['evaluated_on']}"
    )
    out.print(
        _datasets_table(profile, out.width) if profile["datasets"] else "You own or deputise no dataset."
    )
    training = Table(title="Your training")
    for column in ("course", "completed", "expires", "state"):
        training.add_column(column)
    states = {"current": "green", "expiring": "yellow", "expired": "red", "missing": "dim"}
    for t in profile["training"]:
        state = f"[{states[t['state']]}]{t['state']}[/]"
        training.add_row(t["name"], t["completed_on"] or "-", t["expires_on"] or "-", state)
    out.print(training)
    levels = ", ".join(
        f"{level} {'until ' + q['until'] if q['trained'] else 'no'}"
        for level, q in profile["qualified_for"].items()
    )
    out.print(f"qualified for: {levels}")


@app.command()
def handover(
    dataset: str = typer.Argument(..., help="Asset key path, e.g. iot/bronze/river_gauges."),
    to: str = typer.Option(..., "--to", help="Staff id of the new owner."),
    reason: str = typer.Option(..., "--reason", help="Why ownership changes (recorded)."),
    approved_by: str = typer.Option(
        ...,
        "--approved-by",
        help=(
            "Staff id of the approver: the head of the dataset's department or a governance officer "
            "(staff.yaml governance_role), trained for its classification; not you, its owners or --to."
        ),
    ),
    role: Role = typer.Option(Role.steward, "--role", help="Which owner changes."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Hand a dataset to a successor: one approved, hash-chained entry in the ownership ledger,
    requested by you (CITY_IDENTITY_TOKEN, or in dev CITY_STAFF_ID)."""
    settings = settings_or_exit()
    with exit_on(IdentityError, code=EXIT_CONFIG):
        requester = identify(os.environ, settings.mode)
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
                requester=requester,
                approved_by=approved_by,
                reason=reason,
                on=settings.today(),
                role=role.value,
            )
            entry = ledger.append(change)
    if as_json:
        print_json({**entry.model_dump(), "uri": ledger.uri(entry.name)})
        return
    console.print(f"recorded entry {entry.seq} of the ownership ledger: {dataset} {role.value}")
    console.print(f"  {_who(registry, entry.from_staff)} -> {_who(registry, entry.to_staff)}")
    console.print(f"  requested by {_who(registry, entry.requested_by)} ({requester.source})")
    console.print(f"  approved by {registry.staff[entry.approved_by].title()}")
    console.print(f"  {ledger.uri(entry.name)}")
    console.print("steward_trained uses it from the next run; the UI after its code location reloads.")


@app.command()
def history(
    dataset: str = typer.Argument(..., help="Asset key path."),
    as_json: bool = JSON_OPTION,
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
        print_json(
            {
                "dataset": dataset,
                "baseline": baseline.model_dump(),
                "handovers": [e.model_dump() for e in entries],
            }
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
def verify(as_json: bool = JSON_OPTION) -> None:
    """Check the ledger's hash chain, then that it still holds the head the scorecards anchored in
    Dagster's event log: name an entry that was changed, removed or reordered, newest entries that
    were deleted, or a chain rewritten from an earlier entry on."""
    from orchestration.defs.governance.keys import SCORECARDS
    from orchestration.defs.governance.status import ledger_anchor

    settings = settings_or_exit()
    ledger = _ledger(settings)
    with exit_on(ObjectStoreError, code=EXIT_STORAGE):
        result = ledger.verify()
    instance, home = _instance(settings)
    anchor = ledger_anchor(instance, ledger, SCORECARDS.values()) if instance else None
    problem = anchor.problem(result.entries) if anchor and result.ok else None
    warning = None
    if anchor is None:
        where = (
            f"no Dagster instance at {home}" if instance is None else f"no scorecard in {home} anchored it"
        )
        warning = (
            f"no anchored head for {ledger.uri()} ({where}): the chain is checked on its own, so deleted "
            "newest entries or a rewritten chain cannot be seen"
        )
        err_console.print(f"[yellow]warning:[/] {warning}", soft_wrap=True)
    if as_json:
        print_json(
            {
                "ledger": ledger.uri(),
                "intact": result.ok and problem is None,
                "entries": len(result.entries),
                "head": result.head,
                "broken_at": result.broken_at and ledger.uri(result.broken_at),
                "problem": result.problem or problem,
                "anchor": anchor and {**asdict(anchor), "at": anchor.at.isoformat(timespec="seconds")},
                "warning": warning,
            }
        )
    if not result.ok:
        raise fail(
            f"ownership ledger broken at entry {ledger.uri(result.broken_at or '')}: {result.problem} "
            f"({len(result.entries)} entries before it verify)",
            EXIT_DATA,
        )
    if anchor and problem:
        at = anchor.at.isoformat(timespec="seconds")
        raise fail(
            f"ownership ledger {ledger.uri()} does not continue the head {anchor.recorded_by} anchored "
            f"at {at} ({anchor.entries} entries, head {anchor.head[:12]}): {problem}",
            EXIT_DATA,
        )
    if not as_json:
        anchored = (
            f", continues the head anchored by {anchor.recorded_by} ({anchor.entries} entries)"
            if anchor
            else ""
        )
        intact = f"{len(result.entries)} entries, chain intact, head {result.head}{anchored}"
        console.print(f"ownership ledger {ledger.uri()}: {intact}")

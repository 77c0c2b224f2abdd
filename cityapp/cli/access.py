"""``city access sync|show``: department credentials on the object store, from the grants registry."""

from __future__ import annotations

from datetime import date

import typer
from rich.table import Table

from cityplatform.embedded_s3 import EmbeddedS3Error
from cityplatform.exits import (
    EXIT_CONFIG,
    EXIT_STORAGE,
    console,
    day_or_exit,
    err_console,
    exit_on,
    settings_or_exit,
)
from cityplatform.objectstore import ObjectStoreError
from cityplatform.output import JSON_OPTION, print_json
from cityplatform.settings import Settings, SettingsError
from cityplatform.yamlfiles import RegistryError
from governance.registry.grants import Grant
from governance.registry.registry import load_registry

app = typer.Typer(
    help="Department access to the marts buckets, from the grants registry.", no_args_is_help=True
)

ON = typer.Option("", help="Day the grants are judged on (YYYY-MM-DD); default: today, city time.")


def _day(settings: Settings, on: str) -> date:
    return day_or_exit(on, "--on") if on else settings.today()


def _grants() -> tuple[Grant, ...]:
    with exit_on(RegistryError, code=EXIT_CONFIG):
        return load_registry().grants


@app.command()
def sync(on: str = ON, as_json: bool = JSON_OPTION) -> None:
    """Give each department read access to the buckets its current grants name, and nothing else.

    Expired grants are dropped; the embedded server restarts when access changed (data kept).
    """
    from governance.access.sync import sync_access

    settings = settings_or_exit()
    day = _day(settings, on)
    with (
        exit_on(SettingsError, code=EXIT_CONFIG),
        exit_on(EmbeddedS3Error, ObjectStoreError, code=EXIT_STORAGE),
        err_console.status("applying the grants (the server restarts when access changed)"),
    ):
        result = sync_access(settings, _grants(), day)
    if as_json:
        print_json(
            {
                "day": day.isoformat(),
                "restarted": result.restarted,
                "credentials_file": str(settings.department_credentials_path),
                "departments": {
                    department: {
                        "access_key": result.credentials[department].access_key,
                        "buckets": list(buckets),
                    }
                    for department, buckets in result.readable.items()
                },
            }
        )
        return
    for department, buckets in result.readable.items():
        console.print(
            f"{department:<20} {result.credentials[department].access_key:<26} {', '.join(buckets) or '-'}"
        )
    changed = "server restarted with the new access" if result.restarted else "no restart needed"
    console.print(f"access as of {day} applied ({changed}); keys in {settings.department_credentials_path}")


@app.command()
def show(on: str = ON, as_json: bool = JSON_OPTION) -> None:
    """Every grant: who reads which buckets, why, approved by whom, and whether it is current."""
    settings = settings_or_exit()
    day = _day(settings, on)
    grants = sorted(_grants(), key=lambda g: (g.department, g.expires_on))
    if as_json:
        print_json(
            [
                {
                    "department": grant.department,
                    "buckets": list(grant.buckets),
                    "purpose": grant.purpose,
                    "approved_by": grant.approved_by,
                    "expires_on": grant.expires_on.isoformat(),
                    "status": grant.status(day),
                }
                for grant in grants
            ]
        )
        return
    table = Table(
        "department", "buckets", "purpose", "approved by", "expires", "status", title=f"Grants on {day}"
    )
    for grant in grants:
        status = grant.status(day)
        colour = {"expired": "red", "renew soon": "yellow", "current": "green"}[status]
        table.add_row(
            grant.department,
            ", ".join(grant.buckets),
            grant.purpose,
            grant.approved_by,
            grant.expires_on.isoformat(),
            f"[{colour}]{status}[/]",
        )
    console.print(table)

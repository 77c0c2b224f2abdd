"""``city verify``: read back the parquet files of some days against what their writes recorded.

Exit codes: 0 every file matches its record; 4 a file changed, missing or unrecorded; 3 the object
store cannot be read; 2 bad arguments or settings.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import typer
from rich.markup import escape

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
from cityplatform.layout import (
    DEPARTMENT_REPORTS_PREFIX,
    landing_manifest_key,
    mart_export_key,
    readings_publication_key,
)
from cityplatform.objectstore import BRONZE, ObjectStore, ObjectStoreError
from cityplatform.output import JSON_OPTION, print_json, stage_progress
from cityplatform.verify import Location, verify
from cityplatform.yamlfiles import RegistryError
from governance.registry.departments import load_departments
from governance.registry.ownership import load_ownership
from governance.retention import oldest_kept
from ingestion.publication import QUARANTINE_FILE, load_publication
from orchestration.defs.cctv.keys import TABLES as CCTV_TABLE_ASSETS
from orchestration.defs.marts.status import read_status
from vision_jobs.publication import clip_publications


def _folder(key: str) -> str:
    return key.rsplit("/", 1)[0] + "/"


def _iot_locations(store: ObjectStore, day: date) -> list[Location]:
    """The files a day's publication names, each kind's bronze readings and the quarantined lines,
    as readers read them (a generation no publication names is no reader's); a day whose landing
    manifest exists was ingested, so it must have a publication."""
    publication = load_publication(store, day)
    if publication is None:
        if store.stat(BRONZE, landing_manifest_key(day)) is None:
            return []
        key = readings_publication_key(day)  # missing: nothing of the ingested day can be read
        return [Location("iot/bronze/readings", BRONZE, key, (key,))]
    locations = []
    for name, record in publication.files.items():
        dataset = "iot/quarantine/readings" if name == QUARANTINE_FILE else "iot/bronze/readings"
        key = record.info.key
        locations.append(Location(dataset, record.info.bucket, _folder(key), (key,)))
    return locations


def _cctv_locations(store: ObjectStore, day: date, oldest_kept: dict[str, date]) -> list[Location]:
    """The files the day's clip publications name, each table's parquet, as readers read them (a
    generation no publication names is no reader's); a table's files that retention has deleted on
    time (before ``oldest_kept``, the detections long before the counts) are expected no more."""
    locations = []
    for publication in clip_publications(store, BRONZE, day):
        for table, record in publication.files.items():
            key = record.info.key
            expected = (key,) if day >= oldest_kept[table] else ()
            locations.append(Location(f"cctv/{table}", BRONZE, _folder(key), expected))
    return locations


def _cctv_oldest_kept(today: date) -> dict[str, date]:
    """Each CCTV table's oldest day still kept, by its dataset's period in the registry."""
    ownership = load_ownership()
    return {
        table: oldest_kept(today, ownership[key.to_user_string()].retention_days)
        for key, table in CCTV_TABLE_ASSETS.items()
    }


def _mart_locations(store: ObjectStore, bucket: str, days: list[date]) -> list[Location]:
    """Each mart's file of each day in a department's bucket; the days of a mart's last publication
    (its ``status.json``) must have theirs."""
    marts = sorted(
        {o.key.split("/", 1)[0] for o in store.list_objects(bucket) if "/" in o.key}
        - {DEPARTMENT_REPORTS_PREFIX.rstrip("/")}
    )
    locations = []
    for mart in marts:
        published = (read_status(store, bucket, mart) or {}).get("last_published") or {}
        first, last = published.get("from"), published.get("to")
        for day in days:
            key = mart_export_key(mart, day)
            expected = (key,) if first and last and first <= day.isoformat() <= last else ()
            locations.append(Location(f"marts/{bucket}/{mart}", bucket, _folder(key), expected))
    return locations


def verify_command(
    start: str = typer.Option(..., "--from", help="First day to verify (YYYY-MM-DD, the city's local date)."),
    end: str = typer.Option(..., "--to", help="Last day to verify, inclusive (YYYY-MM-DD)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Read back every parquet file of these days (IoT bronze and quarantine, CCTV tables, published
    marts) against the row count and sha256 its write recorded; exit 4 on any changed, missing or
    unrecorded file."""
    first, last = day_or_exit(start, "--from"), day_or_exit(end, "--to")
    if last < first:
        raise fail(f"--to={end} is before --from={start}", EXIT_CONFIG)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    settings = settings_or_exit()
    with exit_on(RegistryError, code=EXIT_CONFIG):
        buckets = [d.bucket for d in load_departments()]
        cctv_oldest_kept = _cctv_oldest_kept(datetime.now(settings.zone).date())
    store = ObjectStore.from_settings(settings)
    with exit_on(ObjectStoreError, code=EXIT_STORAGE):
        store.ping()
        with err_console.status("listing what was written"):
            locations = [loc for day in days for loc in _iot_locations(store, day)]
            locations += [loc for day in days for loc in _cctv_locations(store, day, cctv_oldest_kept)]
            locations += [loc for bucket in buckets for loc in _mart_locations(store, bucket, days)]
        with stage_progress() as progress:
            result = verify(
                store, locations, lambda uri, done: progress(f"reading {uri}", done, len(locations))
            )
            progress("done", len(locations), len(locations))
    problems = [
        {"kind": p.kind, "dataset": p.dataset, "uri": p.uri, "detail": p.detail} for p in result.problems
    ]
    if as_json:
        print_json(
            {"from": first, "to": last, "files_checked": result.files, "ok": result.ok, "problems": problems}
        )
    else:
        for p in result.problems:
            console.print(f"[bold red]{p.kind}[/] {escape(p.uri)}: {escape(p.detail)}", soft_wrap=True)
        verdict = "all match their records" if result.ok else f"{len(result.problems)} problem(s)"
        console.print(
            f"{result.files} parquet files of {first} to {last} read back: {verdict}", soft_wrap=True
        )
    if not result.ok:
        raise typer.Exit(EXIT_DATA)

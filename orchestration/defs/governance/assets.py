"""Governance scorecards per department and the steward report, from the registry, the ownership
ledger and what the Dagster instance recorded about checks.

Scorecards: ``s3://governance/scorecards/<department>/<date>.json``. The report: every dataset row
as parquet in ``s3://governance/reports/<date>/datasets.parquet`` and one HTML page (plot
embedded) in ``<CITY_HOME>/reports/`` and beside the parquet.
"""

import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import dagster as dg
import polars as pl

from cityplatform.layout import (
    STEWARD_REPORTS_PREFIX,
    scorecard_key,
    scorecards_prefix,
    steward_report_html_key,
    steward_report_rows_key,
)
from cityplatform.objectstore import GOVERNANCE, ObjectStore, parquet_bytes
from cityplatform.yamlfiles import RegistryError
from governance.incidents.store import IncidentStore
from governance.registry.departments import load_departments
from governance.registry.grants import grants_due_for_renewal
from governance.registry.registry import load_registry
from governance.stewardship.ledger_store import LedgerBroken, OwnershipLedger
from governance.stewardship.report import render_html
from governance.stewardship.scorecard import build_scorecards
from orchestration.defs.governance.keys import SCORECARDS, STEWARD_REPORT
from orchestration.defs.governance.status import (
    anchored_ownership,
    latest_check_states,
    ledger_metadata,
    run_date,
)
from orchestration.lib.code_location import CodeLocationCatalog
from orchestration.lib.lineage import emits_lineage
from orchestration.lib.resources import CityStorage


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            group_name="governance",
            kinds={"s3", "json"},
            description=(
                f"Stewardship scorecard of {department}'s datasets on the run date: share with a trained "
                "steward and deputy, trainings expiring within 30 days, datasets resting on one trained "
                "person, failed checks still open, grants due for renewal, open incidents and their age."
            ),
            metadata={"dagster/uri": f"s3://{GOVERNANCE}/{scorecards_prefix(department)}"},
        )
        for department, key in SCORECARDS.items()
    ],
)
@emits_lineage
def department_scorecards(
    context: dg.AssetExecutionContext,
    storage: CityStorage,
    code_location: dg.ResourceParam[CodeLocationCatalog],
) -> Iterator[dg.MaterializeResult]:
    store = storage.store()
    on = run_date(context.instance, context.run.run_id, storage.settings().zone)
    ledger = OwnershipLedger(store)
    try:
        registry = load_registry()
        current = anchored_ownership(context.instance, registry, ledger, SCORECARDS.values())
    except (RegistryError, LedgerBroken) as exc:  # one line, as the checks say it
        raise dg.Failure(str(exc), allow_retries=False) from exc
    failed: dict[str, list[str]] = defaultdict(list)  # every check of the code location, not only this job's
    for state in latest_check_states(context.instance, code_location.check_keys).values():
        if state.open_failure:
            failed[state.dataset].append(state.check)
    grants_due = grants_due_for_renewal(registry.grants, on)
    now = datetime.now(UTC)
    incidents = [incident.age_at(now) for incident in IncidentStore(store).open_incidents()]
    cards = build_scorecards(
        registry, load_departments(), current.datasets, on, failed, grants_due, incidents
    )
    store.ensure_buckets([GOVERNANCE])
    for card in cards:
        key = scorecard_key(card.department, on)
        document = json.dumps(card.to_json(), indent=1).encode()
        info = store.put_bytes(GOVERNANCE, key, document, "application/json")
        yield dg.MaterializeResult(
            asset_key=SCORECARDS[card.department],
            metadata={
                **{name: value for name, value in card.summary().items() if value is not None},
                "single_trained": ", ".join(card.single_trained) or "none",
                "failed_checks": ", ".join(card.failed_checks_open) or "none",
                **ledger_metadata(ledger, current.entries),  # the next run checks against it
                "dagster/row_count": len(card.datasets),
                "bytes": info.size,
                "uri": dg.MetadataValue.path(f"s3://{GOVERNANCE}/{key}"),
            },
        )


@dg.asset(
    key=STEWARD_REPORT,
    deps=list(SCORECARDS.values()),
    group_name="governance",
    kinds={"html", "matplotlib", "parquet"},
    description=(
        "The steward report: the latest scorecard of every department as one HTML page with a plot, "
        "and every dataset's stewardship row as parquet."
    ),
    metadata={"dagster/uri": f"s3://{GOVERNANCE}/{STEWARD_REPORTS_PREFIX}"},
)
@emits_lineage
def steward_report(context: dg.AssetExecutionContext, storage: CityStorage) -> dg.MaterializeResult:
    store = storage.store()
    cards = [latest_scorecard(store, department) for department in SCORECARDS]
    day = date.fromisoformat(max(card["evaluated_on"] for card in cards))
    rows = pl.DataFrame([row for card in cards for row in card["rows"]])
    parquet_key = steward_report_rows_key(day)
    store.put_bytes(GOVERNANCE, parquet_key, parquet_bytes(rows))
    ownership = f"registry + ownership ledger ({OwnershipLedger(store).uri()})"
    html = render_html(cards, ownership, datetime.now(UTC)).encode()
    store.put_bytes(GOVERNANCE, steward_report_html_key(day), html, "text/html")
    reports = storage.settings().reports_dir
    reports.mkdir(parents=True, exist_ok=True)
    path = reports / f"steward-report-{day}.html"
    path.write_bytes(html)
    (reports / "steward-report.html").write_bytes(html)  # the latest, at a stable path
    context.log.info(f"steward report: {path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "parquet": dg.MetadataValue.path(f"s3://{GOVERNANCE}/{parquet_key}"),
            "dagster/row_count": rows.height,
            "datasets_failing": rows.filter(pl.col("status") == "fail").height,
            "datasets_warning": rows.filter(pl.col("status") == "warn").height,
        }
    )


def latest_scorecard(store: ObjectStore, department: str) -> dict[str, Any]:
    stored = sorted(o.key for o in store.list_objects(GOVERNANCE, scorecards_prefix(department)))
    if not stored:
        missing = SCORECARDS[department].to_user_string()
        raise dg.Failure(f"no scorecard for {department} yet: materialise {missing}")
    return json.loads(store.get_bytes(GOVERNANCE, stored[-1]))

"""The blocking ``steward_trained`` check, attached to every asset of the code location.

``with_steward_checks`` runs after all domains have loaded and adds one check per asset it finds,
so Python, dbt and future assets are all covered without each domain remembering to, and an asset
with no ownership entry gets a failing check rather than none.
Being an asset check of the asset, it runs in every job that selects the asset, after the asset's
step; being blocking, a failure at ERROR severity skips the asset's downstream steps in that run.
The check has no partitions of its own: on a partitioned asset it judges the dataset's owners on
the run date, once per run, whichever partition the run writes.
"""

import dagster as dg

from governance.registry.registry import load_registry
from governance.stewardship.ledger_store import LedgerBroken, OwnershipLedger
from governance.stewardship.rules import DatasetAssessment, Status, assess_dataset
from orchestration.defs.governance.keys import SCORECARDS
from orchestration.defs.governance.status import anchored_ownership, run_date
from orchestration.lib.code_location import asset_specs
from orchestration.lib.lineage import LineageResource
from orchestration.lib.resources import CityStorage

CHECK_NAME = "steward_trained"
_SEVERITY = {Status.WARN: dg.AssetCheckSeverity.WARN, Status.FAIL: dg.AssetCheckSeverity.ERROR}


def check_result(assessment: DatasetAssessment, source: str) -> dg.AssetCheckResult:
    owners = {
        owner.staff_id: {
            "role": owner.role,
            "name": owner.name,
            "active": owner.active,
            "trained": owner.trained,
            "courses": {
                c.course: {"state": str(c.state), "expires_on": c.expires_on and c.expires_on.isoformat()}
                for c in owner.qualification.courses
            },
        }
        for owner in assessment.owners
    }
    return dg.AssetCheckResult(
        passed=assessment.status is Status.PASS,
        severity=_SEVERITY.get(assessment.status, dg.AssetCheckSeverity.ERROR),
        description="; ".join(assessment.reasons) or "an owner has current training",
        metadata={
            "status": str(assessment.status),
            "evaluated_on": assessment.on.isoformat(),
            "classification": assessment.classification,
            "courses_required": ", ".join(assessment.required),
            "owners": dg.MetadataValue.md("\n".join(f"- {owner.describe()}" for owner in assessment.owners)),
            "trained_owners": ", ".join(assessment.trained_owners) or "none",
            "training": dg.MetadataValue.json(owners),
            "ownership_source": source,
        },
    )


def steward_trained_check(key: dg.AssetKey) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=key,
        name=CHECK_NAME,
        blocking=True,
        description=(
            "A steward or deputy has current training for this dataset's classification on the run "
            "date (fails, blocking downstream, otherwise; warns when it expires within 30 days); both "
            "owners are still active. Owners come from the registry and the ownership ledger."
        ),
    )
    def _steward_trained(
        context: dg.AssetCheckExecutionContext, storage: CityStorage, lineage: LineageResource
    ) -> dg.AssetCheckResult:
        return lineage.check_run(context, lambda: judge_owners(context, storage, key))

    return _steward_trained


def judge_owners(
    context: dg.AssetCheckExecutionContext, storage: CityStorage, key: dg.AssetKey
) -> dg.AssetCheckResult:
    """The dataset's owners from the registry and the anchored ledger, judged on the run date."""
    on = run_date(context.instance, context.run.run_id, storage.settings().zone)
    registry = load_registry()
    try:
        ledger = OwnershipLedger(storage.store())
        current = anchored_ownership(context.instance, registry, ledger, SCORECARDS.values())
    except LedgerBroken as exc:
        return dg.AssetCheckResult(passed=False, description=f"owners cannot be trusted: {exc}")
    ownership = current.datasets.get(key.to_user_string())
    if ownership is None:
        return dg.AssetCheckResult(
            passed=False, description=f"no owner: not in {registry.directory / 'ownership.yaml'}"
        )
    return check_result(assess_dataset(registry, key.to_user_string(), ownership, on), current.source)


def with_steward_checks(definitions: dg.Definitions) -> dg.Definitions:
    """``definitions`` plus one ``steward_trained`` check on each of its assets (read without
    resolving the repository: that still happens once, when Dagster loads the location)."""
    checks = [steward_trained_check(key) for key in asset_specs(definitions)]
    return dg.Definitions.merge(definitions, dg.Definitions(asset_checks=checks))

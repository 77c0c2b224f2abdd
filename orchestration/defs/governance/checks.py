"""The blocking ``steward_trained`` check, attached to every asset of the code location.

``with_steward_checks`` runs after all domains have loaded and adds the check to every asset it finds,
so Python, dbt and future assets are all covered without each domain remembering to, and an asset
with no ownership entry gets a failing check rather than none.
A check step per asset would cost an out-of-process run one subprocess per asset, each importing the
code location again (42 of 48 steps in ``marts_build_day``). So the check is judged in the step that
materialises its asset, after the asset's own results: each asset's op gains the check specs of its
assets and a body that runs the original one, then judges the owners of the checks the step
selected, reading the registry and the ledger once. Being blocking, a failure at ERROR severity
fails the step once its outputs are stored, which stops the step's downstream steps in that run; a
WARN does not; a body that raises leaves the checks unjudged, as a skipped check step did.
Where the asset's own step cannot judge it (a subsettable op such as the dbt models, which reads its
check selection; an external asset, with no op), its assets' checks share a step beside it per
folder of asset keys (one per department's marts), so one department's failure blocks its own
publication only.
The check has no partitions of its own: on a partitioned asset it judges the dataset's owners on
the run date, once per step, whichever partitions the step writes.
"""

import functools
import inspect
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import dagster as dg
from dagster._core.definitions.decorators.op_decorator import DecoratedOpFunction
from dagster._core.execution.plan.compute_generator import create_op_compute_wrapper
from dagster._record import replace

from cityplatform.yamlfiles import RegistryError
from governance.registry.registry import load_registry
from governance.stewardship.ledger_store import LedgerBroken, OwnershipLedger
from governance.stewardship.rules import DatasetAssessment, Status, assess_dataset
from orchestration.defs.governance.keys import SCORECARDS
from orchestration.defs.governance.status import anchored_ownership, run_date
from orchestration.lib.code_location import specs_of
from orchestration.lib.lineage import LINEAGE_RESOURCE, LineageResource
from orchestration.lib.ownership import REGISTRY_UNUSABLE
from orchestration.lib.resources import CityStorage

CHECK_NAME = "steward_trained"
DESCRIPTION = (
    "A steward or deputy has current training for this dataset's classification on the run date "
    "(fails, blocking downstream, otherwise; warns when it expires within 30 days); both owners are "
    "still active. Owners come from the registry and the ownership ledger."
)
STORAGE_RESOURCE = "storage"  # the resource key the check reads the ledger through
_SEVERITY = {Status.WARN: dg.AssetCheckSeverity.WARN, Status.FAIL: dg.AssetCheckSeverity.ERROR}


def steward_spec(key: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(CHECK_NAME, asset=key, blocking=True, description=DESCRIPTION)


def check_result(key: dg.AssetKey, assessment: DatasetAssessment, source: str) -> dg.AssetCheckResult:
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
        asset_key=key,
        check_name=CHECK_NAME,
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


def judge_owners(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
    storage: CityStorage,
    keys: Sequence[dg.AssetKey],
) -> list[dg.AssetCheckResult]:
    """The owners of each dataset in ``keys`` from the registry and the anchored ledger (both read
    once), judged on the run date; every check fails, with the registry's one-line error, when the
    registry cannot be read (no owner can be trusted to be trained)."""
    on = run_date(context.instance, context.run.run_id, storage.settings().zone)
    try:
        registry = load_registry()
    except RegistryError as exc:
        why = REGISTRY_UNUSABLE.format(exc)
        return [_failed(key, why, {"registry_error": str(exc)}) for key in keys]
    try:
        ledger = OwnershipLedger(storage.store())
        current = anchored_ownership(context.instance, registry, ledger, SCORECARDS.values())
    except LedgerBroken as exc:
        return [_failed(key, f"owners cannot be trusted: {exc}") for key in keys]
    results = []
    for key in keys:
        ownership = current.datasets.get(key.to_user_string())
        if ownership is None:
            results.append(_failed(key, f"no owner: not in {registry.directory / 'ownership.yaml'}"))
        else:
            assessment = assess_dataset(registry, key.to_user_string(), ownership, on)
            results.append(check_result(key, assessment, current.source))
    return results


def _failed(
    key: dg.AssetKey, description: str, metadata: dict[str, str] | None = None
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=key, check_name=CHECK_NAME, passed=False, description=description, metadata=metadata
    )


def steward_results(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext, keys: Iterable[dg.AssetKey]
) -> Sequence[dg.AssetCheckResult]:
    """``steward_trained`` of each asset in ``keys``, judged together, each check a lineage run."""
    storage: CityStorage = context.resources.original_resource_dict[STORAGE_RESOURCE]
    lineage: LineageResource = context.resources.original_resource_dict[LINEAGE_RESOURCE]
    ordered = sorted(keys, key=lambda key: key.to_user_string())
    specs = [steward_spec(key) for key in ordered]
    return lineage.check_run(context, specs, lambda: judge_owners(context, storage, ordered))


def judged_in_its_step(assets_def: dg.AssetsDefinition) -> dg.AssetsDefinition:
    """``assets_def`` with a ``steward_trained`` check on each of its assets, judged at the end of its
    own step. Its op keeps its name, inputs, outputs, config, tags, pool and retry policy, and gains
    one output per check, the resources the check reads, and a body that runs the original as
    Dagster would have (``create_op_compute_wrapper``: a returned result is coerced, a generator
    passed through), then judges the checks. Rebuilt from ``get_attributes_dict`` as Dagster's own
    ``subset_for`` swaps an op, so specs, deps, partitions and backfill policy stay."""
    op = assets_def.op
    specs = {spec.get_python_identifier(): spec for spec in map(steward_spec, assets_def.keys)}
    if taken := set(specs) & set(assets_def.node_check_specs_by_output_name):
        raise dg.DagsterInvalidDefinitionError(
            f"op {op.name} already has {CHECK_NAME} checks: {sorted(taken)}"
        )
    steward_keys = {spec.key for spec in specs.values()}
    original = op.compute_fn.decorated_fn
    run_original = create_op_compute_wrapper(op)

    def body(context: dg.AssetExecutionContext, **inputs_and_resources: Any) -> Iterator[Any]:
        yield from run_original(context, inputs_and_resources)  # takes the inputs it names
        selected = context.selected_asset_check_keys & steward_keys
        yield from steward_results(context, [key.asset_key for key in selected])

    functools.update_wrapper(body, original)  # name, docs, marks (emits lineage)
    body.__signature__ = inspect.signature(original)  # type: ignore[attr-defined]  # handed the same
    judged_op = dg.OpDefinition(
        compute_fn=DecoratedOpFunction(body),
        name=op.name,
        ins=op.ins,
        outs={**op.outs, **{name: dg.Out(None) for name in specs}},
        description=op.description,
        config_schema=op.config_schema,
        required_resource_keys={*op.required_resource_keys, STORAGE_RESOURCE, LINEAGE_RESOURCE},
        tags=op.tags,
        retry_policy=op.retry_policy,
        pool=op.pool,
    )
    return dg.AssetsDefinition.dagster_internal_init(
        **{
            **assets_def.get_attributes_dict(),
            "node_def": judged_op,
            "check_specs_by_output_name": {**assets_def.node_check_specs_by_output_name, **specs},
            "selected_asset_check_keys": assets_def.check_keys | steward_keys,
        }
    )


def judged_in_steps_of_their_own(
    item: dg.AssetsDefinition | dg.AssetSpec,
) -> list[dg.AssetChecksDefinition]:
    """``steward_trained`` on each asset of ``item``, judged beside it, for assets whose own step
    cannot judge it: one step per folder of asset keys (``marts/traffic``, ``marts/staging``), so a
    failure blocks what reads that folder's assets (a department's publication) and not every
    consumer of ``item``. Each step judges the checks it selects, reading owners once."""
    folders: dict[tuple[str, ...], list[dg.AssetKey]] = {}
    for spec in specs_of(item):
        folders.setdefault(tuple(spec.key.path[:-1]), []).append(spec.key)
    executable = isinstance(item, dg.AssetsDefinition) and item.is_executable
    prefix = item.node_def.name if executable else None  # type: ignore[union-attr]
    return [
        _steward_step("__".join([prefix, *folder]) if prefix else keys[0].to_python_identifier(), keys)
        for folder, keys in sorted(folders.items())
    ]


def _steward_step(name: str, keys: list[dg.AssetKey]) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(
        specs=[steward_spec(key) for key in keys],
        can_subset=True,
        required_resource_keys={STORAGE_RESOURCE, LINEAGE_RESOURCE},
        name=f"{name}_{CHECK_NAME}",
    )
    def _steward_trained(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        yield from steward_results(context, [key.asset_key for key in context.selected_asset_check_keys])

    return _steward_trained


def _judged_in_its_step(item: object) -> bool:
    """Whether ``item`` materialises its assets in one op, run whole, with a decorated body: the
    check is judged at the end of that step. A subsettable op decides what to run from its
    selection, checks included (dagster-dbt turns the selected checks into dbt tests through their
    dbt metadata), so it is not handed checks it does not know; nor can an external asset, with no
    op, or a graph, with several, judge it in a step of its own."""
    return (
        isinstance(item, dg.AssetsDefinition)
        and item.is_executable
        and not item.can_subset
        and isinstance(item.node_def, dg.OpDefinition)
        and isinstance(item.op.compute_fn, DecoratedOpFunction)
    )


def with_steward_checks(definitions: dg.Definitions) -> dg.Definitions:
    """``definitions`` with a ``steward_trained`` check on each of its assets, judged in the step
    that materialises it where it can be (read without resolving the repository: that still
    happens once, when Dagster loads the location)."""
    items = list(definitions.assets or ())
    judged = [judged_in_its_step(item) if _judged_in_its_step(item) else item for item in items]
    apart = [
        step for item in items if not _judged_in_its_step(item) for step in judged_in_steps_of_their_own(item)
    ]
    return dg.Definitions.merge(replace(definitions, assets=judged), dg.Definitions(asset_checks=apart))

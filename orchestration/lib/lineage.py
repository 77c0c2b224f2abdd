"""OpenLineage for Dagster assets, emitted in one place: ``@emits_lineage`` around each asset's body.

The body only does its work and returns (or yields) its ``MaterializeResult``, ``AssetCheckResult`` or
``Output`` with metadata; the decorator gives Dagster a signature with one more resource, ``lineage``,
and around the body emits, for each selected asset (one OpenLineage job per asset key, one run per
materialisation):

- START before the work, with inputs (the upstream assets' datasets) and the output's static facets;
- COMPLETE after it, with what every result the body gave Dagster says: row counts and output
  statistics (``dagster/row_count``, ``bytes``, column schemas), the datasets the work deleted
  from (``deleted_from``: retention) as inputs truncated, and the inputs it read at a version known
  only at run time (``read_versions``, location -> version: the CCTV job's model weights and camera
  registry by sha256) as inputs with a ``version`` facet;
- then, after COMPLETE, each check judged in the step as a run of its own, ``<asset>:<check>``, that
  reads the dataset with the check's result (and each Pandera rule it names, ``contract_rules``) as
  an input ``dataQualityAssertions`` facet, the spec's place for it; rules a result names outside
  any check (a table validated before it was written) are the run ``<asset>:contract``;
- FAIL when the body raises (ABORT when the run is interrupted), with the error message and stack
  and the ``deleted_from`` of a ``dg.Failure``'s metadata; an asset of a multi-asset that already
  materialised before the error still gets its COMPLETE.

Why around the body rather than a sensor reading the event log: START must go out before the work
begins and FAIL when it breaks; a sensor only sees a step after it ended, and only while the daemon
runs. dbt assets are wrapped by ``lineage_dbt.emits_dbt_lineage``, which starts each model as dbt
starts it. A check judged after its asset's COMPLETE (``steward_trained``, at the end of its asset's
step, or in a step of its own: ``nothing_past_retention``) is a run of its own through
``LineageResource.check_run``: START, then COMPLETE with its result as an assertion on its input,
the asset's dataset.

An asset may publish several datasets (a department's marts, one folder each): metadata
``lineage_datasets`` lists their URIs (each one output; ``rows_by_dataset`` their row counts), in
place of the one ``dagster/uri`` names.

Run ids: the Dagster run id is the parent run (facet ``parent``); each asset's OpenLineage run id
is derived from it, the asset key and the retry attempt (``governance.lineage.naming.child_run_id``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import dagster as dg
from openlineage.client.event_v2 import InputDataset, OutputDataset, RunState
from openlineage.client.facet_v2 import (
    DatasetFacet,
    JobFacet,
    RunFacet,
    data_quality_assertions_dataset,
    lifecycle_state_change_dataset,
    tags_run,
)

from cityplatform.settings import load_settings
from governance.lineage import facets
from governance.lineage.client import lineage_client
from governance.lineage.events import JobRun, LineageEmitter
from governance.lineage.facets import OWNERSHIP_SOURCE
from governance.lineage.naming import (
    PRODUCER,
    DatasetId,
    child_run_id,
    dataset_from_location,
    dataset_from_uri,
    warehouse_dataset,
)
from governance.lineage.quality import rule_assertion
from orchestration.lib.contracts import rules_in
from orchestration.lib.metadata import plain
from orchestration.lib.ownership import PERSONAL_COLUMNS, owned_in_run

Result = TypeVar("Result")
Body = TypeVar("Body", bound=Callable[..., Any])

# Result metadata: the URIs of the datasets the work deleted from (lineage: inputs truncated).
DELETED_FROM = "deleted_from"
# Result metadata: {location: version} of inputs chosen at run time (vision_jobs.pipes reports it).
READ_VERSIONS = "read_versions"
# Asset metadata: the URIs of the datasets an asset writes, when it writes several; result metadata
# ``rows_by_dataset``: {uri: rows}.
LINEAGE_DATASETS = "lineage_datasets"
ROWS_BY_DATASET = "rows_by_dataset"
CONTRACT = "contract"  # the check run of contract rules a result names outside any check
LINEAGE_RESOURCE = "lineage"  # the resource key the wrappers add to an asset's signature
_WRAPPED = "_emits_lineage"  # set on a wrapped body, so a test can find assets that are not


def dataset_of(key: dg.AssetKey, metadata: Mapping[str, Any]) -> DatasetId:
    """Where an asset lives: its ``dagster/uri`` (object storage) or ``dagster/table_name`` (warehouse)."""
    if uri := plain(metadata.get("dagster/uri")):
        return dataset_from_uri(str(uri))
    if table := plain(metadata.get("dagster/table_name")):
        return warehouse_dataset(str(table))
    raise dg.DagsterInvariantViolationError(
        f"{key.to_user_string()} has neither dagster/uri nor dagster/table_name metadata: "
        "lineage cannot name its dataset"
    )


def datasets_of(key: dg.AssetKey, metadata: Mapping[str, Any]) -> list[DatasetId]:
    """The datasets an asset writes: those ``lineage_datasets`` lists, else its one (:func:`dataset_of`)."""
    if uris := plain(metadata.get(LINEAGE_DATASETS)):
        return [dataset_from_uri(str(uri)) for uri in uris]
    return [dataset_of(key, metadata)]


def columns_of(metadata: Mapping[str, Any]) -> list[facets.Column]:
    """Columns from every table schema in the metadata (``dagster/column_schema``, ``schema/<kind>``)."""
    schemas = [value for value in map(plain, metadata.values()) if isinstance(value, dg.TableSchema)]
    return facets.merge_columns(
        *([facets.Column(c.name, c.type, c.description) for c in schema.columns] for schema in schemas)
    )


def stewardship_of(spec: dg.AssetSpec) -> facets.Stewardship:
    """Ownership as Dagster shows it (registry plus ownership ledger, applied to every spec in
    ``orchestration.lib.ownership``): owners are the steward then the deputy."""
    return facets.Stewardship(
        owners=list(zip(("steward", "deputy"), spec.owners, strict=False)),
        classification=spec.tags.get("classification"),
        department=spec.tags.get("department"),
        retention_days=plain(spec.metadata.get("retention_days")),
        personal_columns=tuple(plain(spec.metadata.get(PERSONAL_COLUMNS)) or ()),
        ownership_source=plain(spec.metadata.get(OWNERSHIP_SOURCE)),
    )


def personal_columns_of(stewardship: facets.Stewardship, columns: Sequence[facets.Column]) -> set[str]:
    """The columns of a dataset that hold personal data: the registry's personal columns (a dataset
    classified personal with none listed: all of them), and those found passing one on."""
    personal = set(stewardship.derived_personal)
    if stewardship.classification == facets.PERSONAL:
        personal |= set(stewardship.personal_columns or [c.name for c in columns])
    return personal


def dagster_run_facets(namespace: str, job_name: str, run_id: str) -> dict[str, RunFacet]:
    """What every OpenLineage run inside a Dagster run carries: that run as parent, the engine."""
    return {
        "parent": facets.parent_facet(namespace, job_name, run_id),
        **facets.engine_facets("Dagster", dg.__version__),
    }


def check_assertion(
    result: dg.AssetCheckResult, name: str, description: str | None
) -> data_quality_assertions_dataset.Assertion:
    return data_quality_assertions_dataset.Assertion(
        assertion=name,
        success=result.passed,
        name=name,
        severity=result.severity.value.lower(),
        description=description,
    )


@dataclass
class _AssetRun:
    key: dg.AssetKey
    run: JobRun
    datasets: list[DatasetId]
    inputs: list[DatasetId]
    description: str | None
    stewardship: facets.Stewardship
    columns: list[facets.Column]
    row_count: int | None = None
    size: int | None = None
    rows_by_dataset: dict[DatasetId, int] = field(default_factory=dict)
    # check name -> its assertions (its result, then the rules it names): one run each, after COMPLETE
    assertions: dict[str, list[data_quality_assertions_dataset.Assertion]] = field(default_factory=dict)
    input_facets: dict[DatasetId, dict[str, DatasetFacet]] = field(default_factory=dict)  # e.g. deletions
    extra_facets: dict[str, DatasetFacet] = field(default_factory=dict)  # e.g. dbt column lineage
    materialised: bool = False
    started: bool = False
    finished: bool = False

    def outputs(self, final: bool) -> list[OutputDataset]:
        """Its datasets with their facets; statistics once it materialised (``final``), each
        dataset's own row count where it wrote several."""
        dataset_facets = facets.governance_facets(self.stewardship, [c.name for c in self.columns])
        if self.columns:
            dataset_facets["schema"] = facets.schema_facet(self.columns)
        if self.description:
            dataset_facets["documentation"] = facets.documentation_facet(self.description)
        outputs = []
        for dataset in self.datasets:
            own, output_facets = dict(dataset_facets), {}
            if final and self.materialised:
                several = len(self.datasets) > 1
                rows = self.rows_by_dataset.get(dataset) if several else self.row_count
                metrics, output_facets = facets.statistics_facets(rows, None if several else self.size)
                own |= metrics | self.extra_facets
            outputs.append(
                OutputDataset(dataset.namespace, dataset.name, facets=own, outputFacets=output_facets)
            )
        return outputs

    def input_datasets(self) -> list[InputDataset]:
        return [InputDataset(d.namespace, d.name, facets=self.input_facets.get(d, {})) for d in self.inputs]


def _by_name(keys: Iterable[dg.AssetKey]) -> list[dg.AssetKey]:
    return sorted(keys, key=lambda k: k.to_user_string())


def _note_rules(run: _AssetRun, metadata: Mapping[str, Any], check: str = CONTRACT) -> None:
    """Each contract rule a result names (``contract_rules``), as an assertion of the check run
    ``check`` (a result outside any check: ``contract``)."""
    if rules := [rule_assertion(outcome) for outcome in rules_in(metadata)]:
        run.assertions.setdefault(check, []).extend(rules)


def _note_changed_inputs(run: _AssetRun, metadata: Mapping[str, Any]) -> None:
    """Inputs the work changed, known only once it ran (datasets retention deleted from), with the
    facets that say how; they go out with COMPLETE (or FAIL)."""
    for uri in plain(metadata.get(DELETED_FROM)) or ():
        dataset = dataset_from_uri(str(uri))
        if dataset not in run.inputs:
            run.inputs.append(dataset)
        truncated = facets.lifecycle_facet(lifecycle_state_change_dataset.LifecycleStateChange.TRUNCATE)
        run.input_facets[dataset] = run.input_facets.get(dataset, {}) | {"lifecycleStateChange": truncated}


def _note_read_versions(run: _AssetRun, metadata: Mapping[str, Any]) -> None:
    """Inputs chosen at run time (which weights, which registry), each with the version it read."""
    for location, version in (plain(metadata.get(READ_VERSIONS)) or {}).items():
        dataset = dataset_from_location(str(location))
        if dataset not in run.inputs:
            run.inputs.append(dataset)
        run.input_facets[dataset] = run.input_facets.get(dataset, {}) | {
            "version": facets.version_facet(str(version))
        }


class AssetLineage:
    """The OpenLineage runs of the assets one Dagster step materialises (one run per asset)."""

    def __init__(self, context: dg.AssetExecutionContext, emitter: LineageEmitter) -> None:
        self.emitter = emitter
        self.graph = context.job_def.asset_layer.asset_graph
        self.dagster_run_id = context.run.run_id
        self.attempt = context.retry_number
        self.run_facets = self._run_facets(context, emitter.namespace)
        assets_def = context.assets_def
        self.keys_by_output_name = assets_def.keys_by_output_name
        self.check_descriptions = {
            (spec.asset_key, spec.name): spec.description for spec in assets_def.check_specs
        }
        self.runs: dict[dg.AssetKey, _AssetRun] = {}
        for key in _by_name(context.selected_asset_keys):
            spec = assets_def.specs_by_key[key]
            self.runs[key] = _AssetRun(
                key=key,
                run=self.job_run(key.to_user_string(), facets.job_type_facets("DAGSTER", "ASSET")),
                datasets=datasets_of(key, spec.metadata),
                inputs=[d for dep in _by_name(assets_def.asset_deps[key]) for d in self.datasets_of_key(dep)],
                description=spec.description,
                stewardship=stewardship_of(owned_in_run(spec, self.dagster_run_id)),  # ledger applied
                columns=columns_of(spec.metadata),
            )

    @staticmethod
    def _run_facets(context: dg.AssetExecutionContext, namespace: str) -> dict[str, RunFacet]:
        run_facets = dagster_run_facets(namespace, context.job_name, context.run.run_id)
        if not (context.has_partition_key or context.has_partition_key_range):
            return run_facets
        keys = context.partition_key_range  # one partition, or a backfill's range in one run
        partition = keys.start if keys.start == keys.end else f"{keys.start}...{keys.end}"
        run_facets["tags"] = tags_run.TagsRunFacet(
            tags=[tags_run.TagsRunFacetFields("dagster.partition", partition, "DAGSTER")], producer=PRODUCER
        )
        if isinstance(context.assets_def.partitions_def, dg.TimeWindowPartitionsDefinition):
            window = context.partition_time_window
            run_facets["nominalTime"] = facets.nominal_time_facet(
                window.start.isoformat(), window.end.isoformat()
            )
        return run_facets

    def job_run(self, job_name: str, job_facets: dict[str, JobFacet]) -> JobRun:
        """A run of ``job_name`` under this Dagster run (the parent), with its derived run id."""
        return JobRun(
            job_name, child_run_id(self.dagster_run_id, job_name, self.attempt), self.run_facets, job_facets
        )

    def dataset_of_key(self, key: dg.AssetKey) -> DatasetId:
        return dataset_of(key, self.graph.get(key).metadata)

    def datasets_of_key(self, key: dg.AssetKey) -> list[DatasetId]:
        return datasets_of(key, self.graph.get(key).metadata)

    @functools.cached_property
    def _registry_personal(self) -> dict[DatasetId, set[str]]:
        """Each dataset of the job's assets that holds personal data, by the registry: its columns."""
        found: dict[DatasetId, set[str]] = {}
        for node in self.graph.asset_nodes:
            stewardship = stewardship_of(dg.AssetSpec(node.key, tags=node.tags, metadata=node.metadata))
            if personal := personal_columns_of(stewardship, columns_of(node.metadata)):
                for dataset in datasets_of(node.key, node.metadata):
                    found[dataset] = personal
        return found

    def personal_columns(self, dataset: DatasetId) -> set[str]:
        """The personal columns of ``dataset``: as this step found them (the registry's, and those
        its dbt models pass on), else as the registry says."""
        for run in self.runs.values():
            if dataset in run.datasets:
                return personal_columns_of(run.stewardship, run.columns)
        return self._registry_personal.get(dataset, set())

    def _run_for(self, key: dg.AssetKey | None) -> _AssetRun:
        if key is None:
            if len(self.runs) != 1:
                raise dg.DagsterInvariantViolationError("name the asset_key of a result in a multi-asset")
            return next(iter(self.runs.values()))
        return self.runs[key]

    def observe(self, result: Result) -> Result:
        """Pass a result through on its way to Dagster, noting what lineage reports about it (anything
        but a ``MaterializeResult``, ``AssetCheckResult`` or ``Output`` passes untouched)."""
        if isinstance(result, dg.AssetCheckResult):
            run = self._run_for(result.asset_key)
            name = result.check_name or "asset_check"
            description = self.check_descriptions.get((run.key, result.check_name))
            run.assertions.setdefault(name, []).insert(0, check_assertion(result, name, description))
            _note_rules(run, result.metadata or {}, name)
            return result
        if isinstance(result, dg.Output):
            run = self._run_for(self.keys_by_output_name.get(result.output_name))
        elif isinstance(result, dg.MaterializeResult):
            run = self._run_for(result.asset_key)
            for check in result.check_results or ():
                self.observe(check)
        else:
            return result
        metadata = result.metadata or {}
        run.materialised = True
        run.row_count = plain(metadata.get("dagster/row_count"))
        run.size = plain(metadata.get("bytes"))
        run.rows_by_dataset = {
            dataset_from_uri(str(uri)): rows
            for uri, rows in (plain(metadata.get(ROWS_BY_DATASET)) or {}).items()
        }
        run.columns = columns_of(metadata) or run.columns
        _note_rules(run, metadata)
        _note_changed_inputs(run, metadata)
        _note_read_versions(run, metadata)
        return result

    def start(self, key: dg.AssetKey | None = None) -> None:
        """START for one asset, or for every selected asset not started yet."""
        for run in [self.runs[key]] if key else self.runs.values():
            if not run.started:
                run.started = True
                self.emitter.emit(RunState.START, run.run, run.input_datasets(), run.outputs(final=False))

    def complete(self, key: dg.AssetKey) -> None:
        """COMPLETE, then each check judged with it: a run that reads the datasets, its result an
        input facet (the spec defines ``dataQualityAssertions`` for inputs)."""
        run = self.runs[key]
        run.finished = True
        self.emitter.emit(RunState.COMPLETE, run.run, run.input_datasets(), run.outputs(final=True))
        for check, assertions in run.assertions.items():
            judged = self.job_run(
                f"{key.to_user_string()}:{check}", facets.job_type_facets("DAGSTER", "ASSET_CHECK")
            )
            tested = {"dataQualityAssertions": facets.assertions_facet(assertions)}
            read = [InputDataset(d.namespace, d.name, inputFacets=tested) for d in run.datasets]
            self.emitter.emit(
                RunState.START, judged, [InputDataset(d.namespace, d.name) for d in run.datasets]
            )
            self.emitter.emit(RunState.COMPLETE, judged, read)

    def fail(self, key: dg.AssetKey, error: BaseException) -> None:
        run = self.runs[key]
        run.finished = True
        self.emitter.emit(
            RunState.FAIL if isinstance(error, Exception) else RunState.ABORT,
            run.run,
            run.input_datasets(),
            run.outputs(final=False),
            {"errorMessage": facets.error_facet(error)},
        )

    def finish(self, error: BaseException | None) -> None:
        """Each started, unfinished asset: COMPLETE if it materialised, else FAIL (ABORT if interrupted),
        with what a ``dg.Failure``'s metadata says the work changed before it failed."""
        for key, run in self.runs.items():
            if not run.started or run.finished:
                continue
            if isinstance(error, dg.Failure):
                _note_changed_inputs(run, error.metadata or {})
            if error is None or run.materialised:
                self.complete(key)
            else:
                self.fail(key, error)


class LineageResource(dg.ConfigurableResource):
    """OpenLineage run events for asset materialisations, through the platform's transports."""

    namespace: str | None = None  # job namespace; default OPENLINEAGE_NAMESPACE or "smart-city"

    def emitter(self) -> LineageEmitter:
        return LineageEmitter(lineage_client(load_settings()), self.namespace)

    def check_run(
        self,
        context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
        specs: Sequence[dg.AssetCheckSpec],
        judge: Callable[[], Sequence[dg.AssetCheckResult]],
    ) -> Sequence[dg.AssetCheckResult]:
        """``judge()``, the results of the checks ``specs`` (in their order), each check a run of its
        own that reads its asset's dataset: START for each before judging, then COMPLETE with its
        result as an assertion on that input (how dbt tests are reported, and how ``city lineage``
        finds them), or FAIL (ABORT if interrupted) for each when judging raises. ``judge`` runs once
        for all of them: checks judged together (in their assets' step, after its COMPLETE, or in a
        step beside it) read what they judge by once."""
        emitter = self.emitter()
        op = context.op_execution_context
        graph = op.job_def.asset_layer.asset_graph
        runs: list[tuple[dg.AssetCheckSpec, JobRun, list[DatasetId]]] = []
        for spec in specs:
            job_name = f"{spec.asset_key.to_user_string()}:{spec.name}"
            run = JobRun(
                job_name,
                child_run_id(op.run.run_id, job_name, op.retry_number),
                dagster_run_facets(emitter.namespace, op.job_def.name, op.run.run_id),
                facets.job_type_facets("DAGSTER", "ASSET_CHECK"),
            )
            runs.append((spec, run, datasets_of(spec.asset_key, graph.get(spec.asset_key).metadata)))
        for _, run, datasets in runs:
            emitter.emit(RunState.START, run, [InputDataset(d.namespace, d.name) for d in datasets])
        try:
            results = judge()
        except BaseException as error:
            state = RunState.FAIL if isinstance(error, Exception) else RunState.ABORT
            for _, run, datasets in runs:
                read = [InputDataset(d.namespace, d.name) for d in datasets]
                emitter.emit(state, run, read, extra_run_facets={"errorMessage": facets.error_facet(error)})
            raise
        for (spec, run, datasets), result in zip(runs, results, strict=True):
            assertions = [
                check_assertion(result, spec.name, spec.description),
                *map(rule_assertion, rules_in(result.metadata or {})),
            ]
            tested = {"dataQualityAssertions": facets.assertions_facet(assertions)}
            emitter.emit(
                RunState.COMPLETE,
                run,
                [InputDataset(d.namespace, d.name, inputFacets=tested) for d in datasets],
            )
        return results

    @contextmanager
    def track(self, context: dg.AssetExecutionContext, *, start: bool = True) -> Iterator[AssetLineage]:
        """START now (``start=False``: as each asset starts, e.g. each dbt model); COMPLETE when the
        block ends; FAIL or ABORT for what had not materialised if it raises (then re-raised)."""
        lineage = AssetLineage(context, self.emitter())
        if start:
            lineage.start()
        try:
            yield lineage
        except BaseException as error:
            try:
                lineage.finish(error)
            except Exception as emit_error:  # the asset's own error is the one to surface
                context.log.error(f"could not emit lineage for the failure: {emit_error}")
            raise
        lineage.finish(None)


def emits_lineage(body: Body) -> Body:
    """Emit an asset's OpenLineage around its body (put it between ``@dg.asset``/``@dg.multi_asset``
    and the function): START before the body runs, every result it returns or yields observed on its
    way to Dagster, then COMPLETE, or FAIL/ABORT if it raises. The body does not take ``lineage``:
    the signature Dagster reads adds it as a resource."""
    if inspect.isgeneratorfunction(body):

        def each(context: dg.AssetExecutionContext, *args: Any, lineage: LineageResource, **kwargs: Any):
            with lineage.track(context) as runs:
                for result in body(context, *args, **kwargs):
                    yield runs.observe(result)

        return lineage_wrapper(body, each)

    def once(context: dg.AssetExecutionContext, *args: Any, lineage: LineageResource, **kwargs: Any) -> Any:
        with lineage.track(context) as runs:
            return runs.observe(body(context, *args, **kwargs))

    return lineage_wrapper(body, once)


def lineage_wrapper(body: Callable[..., Any], wrapper: Callable[..., Any], returns: Any = None) -> Any:
    """``wrapper`` dressed as ``body`` for Dagster: the body's name, docs and parameters (the context
    first) plus the ``lineage`` resource, and the return annotation ``returns`` (default the body's);
    marked as emitting lineage."""
    signature = inspect.signature(body, eval_str=True)
    parameters = list(signature.parameters.values())
    if (
        LINEAGE_RESOURCE in signature.parameters
        or not parameters
        or any(p.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD for p in parameters)
    ):
        raise dg.DagsterInvalidDefinitionError(
            f"{body.__qualname__}: a body that emits lineage takes the context first, then resources, "
            f"and not '{LINEAGE_RESOURCE}' (the wrapper adds it)"
        )
    resource = inspect.Parameter(
        LINEAGE_RESOURCE, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=LineageResource
    )
    functools.update_wrapper(wrapper, body)
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*parameters, resource],
        return_annotation=signature.return_annotation if returns is None else returns,
    )
    setattr(wrapper, _WRAPPED, True)
    return wrapper


def emits_lineage_for(assets_def: dg.AssetsDefinition) -> bool:
    """Whether the body of ``assets_def`` is wrapped to emit lineage."""
    return getattr(getattr(assets_def.op.compute_fn, "decorated_fn", None), _WRAPPED, False)

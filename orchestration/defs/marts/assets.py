"""Marts: every dbt model as an asset downstream of the IoT and CCTV assets, then one publication per
department that exports its marts to the department's own bucket.

The dbt models, their data tests (as asset checks; error severity blocks, warn does not) and the
publications share the daily partitions of ingestion: a run of one day, or a backfill of a range in
one run, hands dbt the range as its run window (``CITY_MIN_DATE``/``CITY_MAX_DATE``, environment
rather than vars so that dbt keeps partial parsing), and every day-partitioned model replaces
exactly those days.
"""

import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliInvocation,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.errors import DagsterDbtCliRuntimeError
from dagster_shared.record import replace

from cityplatform.layout import DEPARTMENT_REPORT_LATEST_KEY, DEPARTMENT_REPORTS_PREFIX
from governance.department_report import REPORT_MARTS
from governance.registry.departments import Department, load_departments
from orchestration.defs.marts.blocking import blocked_models, node_keys, upstream
from orchestration.defs.marts.publish import export_marts
from orchestration.defs.marts.reports import (
    publish_report,
    report_frames,
    report_metadata,
    run_check_statuses,
)
from orchestration.defs.marts.status import write_blocked, write_published
from orchestration.lib.dbt import MARTS_PROJECT, PRODUCTION_BUILD, WAREHOUSE_POOL, CityDbt, partition_window
from orchestration.lib.dbt_checks import check_description, readable_test_names
from orchestration.lib.lineage import LINEAGE_DATASETS, ROWS_BY_DATASET, emits_lineage
from orchestration.lib.lineage_dbt import emits_dbt_lineage
from orchestration.lib.partitions import daily_partitions
from orchestration.lib.resources import CityStorage, StewardJudge
from orchestration.lib.retention_scope import DAY_COLUMN, RETAINED, RETAINED_BY_DAY
from orchestration.lib.retries import STORAGE_RETRY

PROJECT = MARTS_PROJECT
PROJECT.prepare_if_dev()  # parses under `dagster dev`; elsewhere prepared before loading (lib/dbt.py)
GROUP = "marts"  # the first part of every key here
DEPARTMENTS = frozenset(department.id for department in load_departments())
# A model's meta key: the parent models whose day before its day also reads (run_start() - 1 day).
READS_DAY_BEFORE = "reads_day_before"
# A source's meta key: its assets are partitioned by CCTV clip (dynamic), not by day.
PARTITIONED_BY_CLIP = "partitioned_by_clip"
DAY = "local_date"  # the local day a model's row belongs to, which its day partitions are built by


class MartsTranslator(DagsterDbtTranslator):
    """Keys ``marts/<layer or department>/<model>``; sources keep the keys in their ``meta.dagster``.
    Groups by department or layer (:func:`marts_group`); dbt tests as checks that explain themselves
    (``orchestration.lib.dbt_checks``)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return dg.AssetKey(
            [GROUP, *layer_and_name(dbt_resource_props["fqn"], dbt_resource_props["resource_type"])]
        )

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str:
        return marts_group(layer_and_name(dbt_resource_props["fqn"], dbt_resource_props["resource_type"])[0])

    def get_tags(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, str]:
        return {**super().get_tags(dbt_resource_props), **_retention(dbt_resource_props)[0]}

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        return {**super().get_metadata(dbt_resource_props), **_retention(dbt_resource_props)[1]}

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        """dagster-dbt's check (blocking on error severity, not on warn), described: what the test
        asserts, on which column, its severity. Its name is in the manifest (:data:`MANIFEST`)."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        return replace(spec, description=check_description(manifest["nodes"][unique_id]))

    def get_partition_mapping(
        self, dbt_resource_props: Mapping[str, Any], dbt_parent_resource_props: Mapping[str, Any]
    ) -> dg.PartitionMapping | None:
        """A model whose day also reads the day before of a parent (the parent named in the model's
        ``meta.reads_day_before``) depends on both of that parent's days, so a rebuilt day D of
        the parent makes D+1 stale and a backfill orders the days. A model that reads its own row of
        the day before (an episode across midnight continued; dagster-dbt's
        ``meta.dagster.has_self_dependency``) depends on its own day before, so D+1 follows a rebuilt
        D in the graph, in asset backfills and in the UI. Dagster judges no staleness through a
        self-dependency once an asset has 100 partitions
        (``SKIP_PARTITION_DATA_VERSION_SELF_DEPENDENCY_THRESHOLD``), so such a model also names the
        parents it reads that day from, whose rebuilt day marks its next day stale at any size. The
        first day has no day before, which is no error: it is built from its own day. A day
        depends on every partition of a source partitioned by clip (``meta.partitioned_by_clip``)."""
        if dbt_parent_resource_props["unique_id"] == dbt_resource_props["unique_id"]:
            return dg.TimeWindowPartitionMapping(
                start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
            )
        if dbt_parent_resource_props.get("source_meta", {}).get(PARTITIONED_BY_CLIP):
            # No Dagster mapping takes a clip to its day; identity by key would make every day ask
            # for a clip named like it (an asset backfill of the marts fails on that).
            return dg.AllPartitionMapping()
        reads_day_before = dbt_resource_props.get("meta", {}).get(READS_DAY_BEFORE, [])
        if dbt_parent_resource_props["resource_type"] == "model" and (
            dbt_parent_resource_props["name"] in reads_day_before
        ):
            return dg.TimeWindowPartitionMapping(start_offset=-1, allow_nonexistent_upstream_partitions=True)
        return None


def _retention(dbt_resource_props: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """A model whose rows belong to a local day (a ``local_date`` column: the day-partitioned models,
    and the staging tables of a run's days) has its expired days deleted by governance retention:
    (tags, metadata) that say so; nothing for any other node (dimensions, snapshots, seeds)."""
    if dbt_resource_props["resource_type"] != "model" or DAY not in dbt_resource_props.get("columns", {}):
        return {}, {}
    return RETAINED_BY_DAY, {DAY_COLUMN: DAY}


def layer_and_name(fqn: list[str], resource_type: str) -> tuple[str, str]:
    """``[project, 'marts', dept, model]`` -> ``(dept, model)``; staging/intermediate keep their layer;
    seeds are ``reference``, snapshots ``snapshots``."""
    if resource_type == "snapshot":
        return "snapshots", fqn[-1]
    if len(fqn) == 2:  # a seed at the top of seeds/
        return "reference", fqn[-1]
    folder = fqn[2] if fqn[1] == "marts" else fqn[1]
    return folder, fqn[-1]


def marts_group(folder: str) -> str:
    """The group of the assets under ``marts/<folder>/``: a department's marts in a group named as
    the department (``traffic``), each layer under them in ``marts_<layer>`` (``marts_staging``,
    ``marts_intermediate``, ``marts_reference``), so the UI's graph shows each department apart."""
    return folder if folder in DEPARTMENTS else f"{GROUP}_{folder}"


# How DuckDB's httpfs reports the object store going away in dbt's error lines (an HTTP status,
# an I/O or a connection error): the one kind of dbt failure a later attempt can mend.
STORAGE_ERROR = re.compile(r"HTTP|IO Error|[Cc]onnection")


def retried_for_storage_only(stream: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """The dbt build under :data:`STORAGE_RETRY`, retried only when dbt failed on the object store.

    A retry is safe: a build replaces exactly its window's days (``replace_days``), rebuilds the
    staging tables whole, takes a snapshot version only when the registry changed and only reads
    in its data tests, so a second attempt after a failure partway leaves what one clean build
    leaves. A failed blocking data test or a SQL error fails the same way again: not retried
    (``dg.Failure(allow_retries=False)``), so a blocked day is not built four times."""

    @functools.wraps(stream)
    def run(*args: Any, **kwargs: Any) -> Iterator[Any]:
        try:
            yield from stream(*args, **kwargs)
        except DagsterDbtCliRuntimeError as error:
            if not STORAGE_ERROR.search(str(error)):
                raise dg.Failure(str(error), allow_retries=False) from error
            raise

    return run


# Each sensor kind is its own dbt source, all of them parts of the one iot/bronze/readings asset.
TRANSLATOR = MartsTranslator(DagsterDbtTranslatorSettings(enable_duplicate_source_asset_keys=True))
# The manifest as the assets and their runs see it: dbt's, with the data tests' short names.
MANIFEST = readable_test_names(json.loads(PROJECT.manifest_path.read_text()))


@dbt_assets(
    manifest=MANIFEST,
    project=PROJECT,
    dagster_dbt_translator=TRANSLATOR,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
    retry_policy=STORAGE_RETRY,
    name="marts_dbt",
)
@retried_for_storage_only
@emits_dbt_lineage  # OpenLineage: one run per model and per dbt test
def marts_dbt(
    context: dg.AssetExecutionContext,
    dbt: CityDbt,
    storage: CityStorage,
    steward_judge: dg.ResourceParam[StewardJudge],
) -> DbtCliInvocation:
    window = context.partition_time_window
    blocked = blocked_by_owners(context, storage, steward_judge)
    # one space-separated value, the form dagster-dbt folds into its own selection
    exclude = (
        ["--exclude", " ".join(sorted(MANIFEST["nodes"][u]["name"] for u in blocked))] if blocked else []
    )
    return dbt.cli(
        [*PRODUCTION_BUILD, *exclude], context=context, window=partition_window(window.start, window.end)
    )


def blocked_by_owners(
    context: dg.AssetExecutionContext, storage: CityStorage, judge_owners: StewardJudge
) -> dict[str, str]:
    """The selected models that read a dataset whose ``steward_trained`` fails (unique_id -> why),
    judged before the build (``blocking``); each blocked mart's status object says why."""
    keys = node_keys(MANIFEST, TRANSLATOR)
    selected = [u for u, key in keys.items() if u.startswith("model.") and key in context.selected_asset_keys]
    reads = upstream(MANIFEST, selected) | set(selected)
    judged = judge_owners(context, storage, sorted({keys[u] for u in reads}, key=lambda k: k.path))
    failing = {
        r.asset_key: r.description
        for r in judged
        if not r.passed and r.severity is dg.AssetCheckSeverity.ERROR
    }
    blocked = blocked_models(
        MANIFEST,
        selected,
        {u: f"{keys[u].to_user_string()}: {failing[keys[u]]}" for u in reads if keys[u] in failing},
    )
    store, buckets = storage.store(), {d.id: d.bucket for d in load_departments()}
    for department, marts in MARTS_BY_DEPARTMENT.items():
        reasons = {
            MANIFEST["nodes"][u]["name"]: f"not built or published: {why}"
            for u, why in blocked.items()
            if MANIFEST["nodes"][u]["name"] in marts and MANIFEST["nodes"][u]["fqn"][2] == department
        }
        if reasons:
            write_blocked(store, buckets[department], reasons, run_id=context.run_id)
    for uid, why in sorted(blocked.items()):
        context.log.warning(f"{keys[uid].to_user_string()} left out of this build: it reads {why}")
    return blocked


def department_marts(manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    """Department id -> the names of its mart models (``models/marts/<department>/``)."""
    marts: dict[str, list[str]] = {}
    for node in manifest["nodes"].values():
        fqn = node["fqn"]
        if node["resource_type"] == "model" and fqn[1] == "marts":
            marts.setdefault(fqn[2], []).append(node["name"])
    return {department: sorted(names) for department, names in sorted(marts.items())}


def _publication(department: Department, marts: list[str]) -> dg.AssetsDefinition:
    department_id, bucket = department.id, department.bucket
    key = dg.AssetKey([GROUP, "published", department_id])
    reported = REPORT_MARTS.get(department_id, ())
    if unpublished := sorted(set(reported) - set(marts)):
        raise dg.DagsterInvalidDefinitionError(
            f"the {department_id} report draws on {', '.join(unpublished)}, not among its marts ({marts})"
        )
    report = (
        f" After the export, the department's report of the run's last day (charts of {', '.join(reported)}, "
        f"each with its data date and its checks' status in the run): `s3://{bucket}/"
        f"{DEPARTMENT_REPORTS_PREFIX}date=YYYY-MM-DD/report.html`, the newest also at "
        f"`s3://{bucket}/{DEPARTMENT_REPORT_LATEST_KEY}` and in the city home's `reports/departments/`."
        if reported
        else ""
    )

    @dg.asset(
        key=key,
        group_name=marts_group(department_id),  # beside the marts it publishes
        deps=[dg.AssetKey([GROUP, department_id, mart]) for mart in marts],
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        retry_policy=STORAGE_RETRY,
        kinds={"s3", "parquet", "html"} if reported else {"s3", "parquet"},
        tags=RETAINED,  # the department's copy goes when the registry's period ends, as the warehouse's
        description=(
            f"The {department_id} marts as published to the department: one parquet per mart and "
            f"day at `s3://{bucket}/MART/date=YYYY-MM-DD/MART.parquet` ({', '.join(marts)}). "
            f"Downstream of the dbt models, so a failed blocking check stops publication, and a "
            f"model reading a dataset without trained owners is not even built. Beside each mart, "
            f"`s3://{bucket}/MART/status.json` says whether its latest run published it (days, "
            f"checks) or blocked it and why.{report}"
        ),
        # lineage: each mart its own dataset (s3://<bucket>/<mart>), not the bucket
        metadata={
            "dagster/uri": f"s3://{bucket}/",
            "marts": marts,
            LINEAGE_DATASETS: [f"s3://{bucket}/{mart}/" for mart in marts],
        },
    )
    @emits_lineage
    def publish(context: dg.AssetExecutionContext, storage: CityStorage) -> dg.MaterializeResult:
        window = context.partition_time_window
        settings, store = storage.settings(), storage.store()
        exports = export_marts(
            store,
            settings.warehouse_path,
            schema=department_id,
            marts=marts,
            bucket=bucket,
            start=window.start.date(),
            end=window.end.date(),
        )
        context.log.info(f"published {len(exports)} objects to s3://{bucket}/")
        rows = {m: sum(e.record.rows for e in exports if e.mart == m) for m in marts}
        metadata: dict[str, Any] = {
            "objects": len(exports),
            "rows_by_mart": rows,
            ROWS_BY_DATASET: {f"s3://{bucket}/{m}/": n for m, n in rows.items()},
            "bytes": sum(e.record.info.size for e in exports),
            "dagster/row_count": sum(e.record.rows for e in exports),
            "files": [e.record.metadata() for e in exports],
        }
        checks = run_check_statuses(
            context.instance, context.run_id, {m: dg.AssetKey([GROUP, department_id, m]) for m in marts}
        )
        last_day = window.end.date() - timedelta(days=1)
        write_published(
            store, bucket, checks, first=window.start.date(), last=last_day, run_id=context.run_id
        )
        if reported:  # inside this step: a step per report would lengthen every run's launch
            day = last_day
            frames = report_frames(settings.warehouse_path, department_id, reported, day)
            published = publish_report(
                store,
                settings,
                department,
                frames,
                {m: checks[m] for m in reported},
                day=day,
                run_id=context.run_id,
            )
            context.log.info(f"report of {day}: {published.uri}")
            metadata |= report_metadata(published)
        return dg.MaterializeResult(metadata=metadata)

    return publish


MARTS_BY_DEPARTMENT = department_marts(MANIFEST)
publications = [
    _publication(department, MARTS_BY_DEPARTMENT[department.id])
    for department in load_departments()
    if department.id in MARTS_BY_DEPARTMENT
]

"""Retention from real Dagster runs against a real S3 server and a real DuckDB warehouse: expired
objects go with every version (clips placed or not, their frames, truth and contract-failure
evidence, derived tables, IoT objects), so do the expired days of the warehouse's tables by day; the
deletions are recorded and sent to lineage, and ``nothing_past_retention`` fails when something old
is left.

The module has an S3 server of its own: retention deletes every old object under the platform's
prefixes, which on the shared session server would include other modules' test data.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta

import dagster as dg
import duckdb
import pytest
from minio.versioningconfig import ENABLED, VersioningConfig

from cityplatform.layout import (
    CCTV_PREFIX,
    ClipName,
    bronze_clip_key,
    bronze_readings_key,
    clip_publication_key,
    contract_failures_key,
    landing_clip_key,
    landing_clip_truth_key,
    landing_iot_key,
    landing_manifest_key,
    landing_registry_key,
    mart_export_key,
    parse_lineage_event_key,
    quarantine_readings_key,
    quarantine_record_key,
    readings_publication_key,
    scorecard_key,
    unplaced_clip_key,
)
from cityplatform.objectstore import (
    BRONZE,
    CORE_BUCKETS,
    GOVERNANCE,
    LANDING,
    LINEAGE,
    QUARANTINE,
    ObjectInfo,
    ObjectStore,
    parse_s3_uri,
    read_parquet,
)
from cityplatform.settings import load_settings
from governance.lineage.naming import child_run_id, dataset_from_uri, warehouse_dataset
from governance.registry.departments import load_departments, mart_buckets
from governance.registry.ownership import load_ownership
from governance.retention import Location, WarehouseTable
from orchestration.defs.cctv.partitions import clip_partitions
from orchestration.defs.governance.retention import (
    CHECK_NAME,
    DELETIONS,
    retained_locations,
    retained_specs,
    retained_tables,
)
from orchestration.defs.marts.assets import MANIFEST, department_marts
from orchestration.lib.code_location import RESOURCE_KEY
from tests.lineage_spec import event_errors
from tests.orchestration.governance_env import run, today
from vision_jobs.clips import BadClipKey, clip_name_of, parse_clip_uri

PUBLISHED = department_marts(MANIFEST)  # department id -> its marts

pytestmark = [pytest.mark.integration, pytest.mark.own_s3, pytest.mark.usefixtures("governance_env")]

JOB = "governance_retention"
GENERATION = "20260101T000000000000Z-0a0b0c"  # a run's, as published


def objects_dated(day: date) -> dict[str, str]:
    """One object per retained location, keyed as the platform writes them: URI -> dataset."""
    tz = load_settings().zone
    start = datetime.combine(day, time(8), tz)
    name = ClipName("cam-01", start)
    clip = parse_clip_uri(f"s3://{LANDING}/{landing_clip_key(name, '.mp4')}", tz)
    unplaced = f"{CCTV_PREFIX}cam-01/date={day.isoformat()}/dump-0001.mp4"  # no camera and start in its name
    placed = {
        clip.uri: "cctv/raw/clips",
        f"s3://{LANDING}/{unplaced}": "cctv/raw/clips",
        f"s3://{QUARANTINE}/{quarantine_record_key(unplaced_clip_key(unplaced))}": "cctv/raw/clips",
        f"s3://{LANDING}/{landing_clip_truth_key(name, '.boxes.parquet')}": "cctv/raw/clips",
        f"s3://{BRONZE}/{bronze_clip_key('evidence', name, GENERATION, 'frame-1.jpg')}": "cctv/raw/clips",
        f"s3://{QUARANTINE}/{clip.quarantine_key()}": "cctv/raw/clips",
        f"s3://{BRONZE}/{bronze_clip_key('detections', name, GENERATION)}": "cctv/derived/detections",
        f"s3://{BRONZE}/{bronze_clip_key('counts', name, GENERATION)}": "cctv/derived/counts",
        f"s3://{BRONZE}/{clip_publication_key(name, GENERATION)}": "cctv/derived/counts",
        f"s3://{BRONZE}/{bronze_clip_key('coverage', name, GENERATION)}": "cctv/derived/coverage",
        f"s3://{BRONZE}/{bronze_clip_key('occupancy', name, GENERATION)}": "cctv/derived/zone_occupancy",
        f"s3://{LANDING}/{landing_iot_key('noise', start)}": "iot/raw/readings",
        f"s3://{BRONZE}/{bronze_readings_key('noise', day, GENERATION)}": "iot/bronze/readings",
        f"s3://{BRONZE}/{readings_publication_key(day)}": "iot/bronze/readings",
        f"s3://{QUARANTINE}/{quarantine_readings_key(day, GENERATION)}": "iot/quarantine/readings",
    }
    # each department's copy of its first mart
    placed |= {
        f"s3://{d.bucket}/{mart_export_key(PUBLISHED[d.id][0], day)}": f"marts/published/{d.id}"
        for d in load_departments()
    }
    # a failed contract check's copies of the rows it rejected, for each dataset
    evidence = {
        f"s3://{QUARANTINE}/{contract_failures_key(dataset, day, name.format())}": dataset
        for dataset in sorted(set(placed.values()))
    }
    return placed | evidence


def day_tables(tables: list[WarehouseTable], beyond_period: int) -> dict[tuple[str, date], int]:
    """For each warehouse table by day, the day its period plus ``beyond_period`` days ago, and how
    many rows it is given there (a few, different per table)."""
    return {
        (t.relation, today() - timedelta(days=t.retention_days + beyond_period)): 1 + index % 3
        for index, t in enumerate(tables)
    }


def warehouse_days(tables: list[WarehouseTable]) -> dict[tuple[str, date], int]:
    """(relation, day) -> rows of every table by day, as the warehouse holds them now."""
    with duckdb.connect(str(load_settings().warehouse_path), read_only=True) as con:
        return {
            (t.relation, day): rows
            for t in tables
            for day, rows in con.execute(
                f'select "{t.day_column}", count(*) from "{t.schema}"."{t.name}" group by all'
            ).fetchall()
        }


def put_rows(days: dict[tuple[str, date], int], tables: list[WarehouseTable]) -> None:
    """Rows of the given days in the warehouse's tables (created with their day column if new)."""
    by_relation = {t.relation: t for t in tables}
    with duckdb.connect(str(load_settings().warehouse_path)) as con:
        for (relation, day), rows in days.items():
            t = by_relation[relation]
            con.execute(f'create schema if not exists "{t.schema}"')
            con.execute(f'create table if not exists "{t.schema}"."{t.name}" ("{t.day_column}" date, n int)')
            con.execute(f'insert into "{t.schema}"."{t.name}" select ?, range from range(?)', [day, rows])


def put(store: ObjectStore, uri: str, size: int = 16) -> None:
    store.put_bytes(*parse_s3_uri(uri), b"x" * size)


def seed(store: ObjectStore, beyond_period: int) -> dict[str, str]:
    """For each retained dataset, objects dated its retention period plus ``beyond_period`` days ago."""
    periods = {dataset: entry.retention_days for dataset, entry in load_ownership().items()}
    seeded: dict[str, str] = {}
    for period in sorted({periods[dataset] for dataset in objects_dated(today()).values()}):
        dated = objects_dated(today() - timedelta(days=period + beyond_period))
        seeded |= {uri: dataset for uri, dataset in dated.items() if periods[dataset] == period}
    for index, uri in enumerate(seeded):
        put(store, uri, size=16 + index)
    return seeded


def exists(store: ObjectStore, uri: str) -> bool:
    return store.stat(*parse_s3_uri(uri)) is not None


def versions(store: ObjectStore, uri: str) -> list[ObjectInfo]:
    """Every version S3 still holds of ``uri``, delete markers included."""
    bucket, key = parse_s3_uri(uri)
    return [o for o in store.list_objects(bucket, key, versions=True) if o.key == key]


def materialization(result: dg.ExecuteInProcessResult) -> dg.AssetMaterialization:
    (event,) = [e for e in result.get_asset_materialization_events() if e.asset_key == DELETIONS]
    return event.step_materialization_data.materialization


def check_results(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key == DELETIONS}


def record_of(store: ObjectStore, result: dg.ExecuteInProcessResult) -> list[dict]:
    uri = materialization(result).metadata["record"].value
    return read_parquet(store, *parse_s3_uri(uri)).to_dicts()


def clip_partitions_of(uris: dict[str, str]) -> set[str]:
    keys = set()
    for uri in uris:
        bucket, key = parse_s3_uri(uri)
        if bucket == LANDING and key.startswith(CCTV_PREFIX):
            try:
                keys.add(clip_name_of(key, load_settings().zone).format())
            except BadClipKey:  # unplaced: the sensor gave it a quarantine record, not a partition
                continue
    return keys


@pytest.fixture(scope="module")
def tables(definitions: dg.Definitions) -> list[WarehouseTable]:
    """The warehouse's tables by day, as the catalogue hands them to retention."""
    return retained_tables(definitions.resources[RESOURCE_KEY])


@pytest.fixture(scope="module")
def seeded(
    store: ObjectStore, instance: dg.DagsterInstance, tables: list[WarehouseTable]
) -> dict[str, dict[str, str]]:
    """Expired objects, objects on the last day of their period, and old objects out of scope, on
    versioned buckets as production has them: every expired object is overwritten once (so an older
    version exists), and one is then deleted without a version id (only a delete marker hides it).

    The clips among them are partitions too, as the landing sensor would have added them. Every
    warehouse table by day gets rows of an expired day and of the last day of its period.
    """
    put_rows(day_tables(tables, beyond_period=1) | day_tables(tables, beyond_period=0), tables)
    for bucket in (*CORE_BUCKETS, *mart_buckets()):
        store.client.set_bucket_versioning(bucket, VersioningConfig(ENABLED))
    long_ago = today() - timedelta(days=4000)
    outside = {
        f"s3://{BRONZE}/{landing_manifest_key(long_ago)}": "iot/raw/readings manifest",
        f"s3://{LANDING}/{landing_registry_key('sensors')}": "sensor registry",
        f"s3://{GOVERNANCE}/{scorecard_key('traffic', long_ago)}": "scorecard (the audit trail)",
    }
    for uri in outside:
        put(store, uri)
    seeded = {
        "expired": seed(store, beyond_period=1),
        "kept": seed(store, beyond_period=0),
        "outside": outside,
    }
    for uri in seeded["expired"]:
        put(store, uri, size=8)
    bucket, key = parse_s3_uri(next(iter(seeded["expired"])))
    assert store.delete_keys(bucket, [key]) == []  # hidden by a delete marker, still held as versions
    clips = clip_partitions_of(seeded["expired"]) | clip_partitions_of(seeded["kept"])
    instance.add_dynamic_partitions(clip_partitions.name or "", sorted(clips))
    return seeded


@pytest.fixture(scope="module")
def retention_run(
    seeded: dict[str, dict[str, str]], definitions: dg.Definitions, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    result = run(definitions, instance, JOB)
    assert result.success
    return result


@pytest.fixture(scope="module")
def locations(definitions: dg.Definitions) -> list[Location]:
    """Where retention looks: the retained assets of the catalogue the definitions hand it."""
    return retained_locations(definitions.resources[RESOURCE_KEY])


def test_every_retained_location_is_seeded(locations: list[Location]) -> None:
    uris = {location.uri for location in locations}
    seeded = {next(loc for loc in uris if uri.startswith(loc)) for uri in objects_dated(today())}
    assert seeded == uris


def test_every_contract_checked_asset_is_retained_so_its_failure_evidence_ages(
    definitions: dg.Definitions, locations: list[Location]
) -> None:
    """A failed contract check copies the rows it rejected into quarantine: the copies keep the
    checked dataset's period, so every asset with a contract is one retention governs."""
    catalog = definitions.resources[RESOURCE_KEY]
    checked = {key.asset_key for key in catalog.check_keys if key.name == "contract"}
    assert checked and checked <= set(retained_specs(catalog))
    evidence = {loc.dataset: loc.uri for loc in locations if "/contract-failures/" in loc.uri}
    assert {key.to_user_string() for key in checked} <= set(evidence)


def test_every_table_by_day_in_the_warehouse_is_governed(tables: list[WarehouseTable]) -> None:
    """Each dbt model with a local_date: staging, intermediate and marts alike; never a dimension
    or snapshot (no day), each kept for its registry period."""
    periods = {dataset: entry.retention_days for dataset, entry in load_ownership().items()}
    assert {t.relation.split(".")[1] for t in tables} == {
        "staging",
        "intermediate",
        "traffic",
        "public_safety",
        "environment",
        "disaster_management",
        "policy_planning",
    }
    assert "marts/traffic/fct_segment_traffic_hourly" in {t.dataset for t in tables}
    assert not [t for t in tables if t.name.startswith(("dim_", "snp_"))]
    assert all(t.day_column == "local_date" and t.retention_days == periods[t.dataset] for t in tables)


def test_a_daily_schedule_runs_retention_and_scoring_never_deletes(definitions: dg.Definitions) -> None:
    schedule = definitions.resolve_schedule_def("governance_retention_schedule")
    assert (schedule.job_name, schedule.cron_schedule) == (JOB, "0 3 * * *")
    assert schedule.execution_timezone == load_settings().timezone
    assert (
        DELETIONS not in definitions.resolve_job_def("governance_scorecard").asset_layer.executable_asset_keys
    )


def test_expired_objects_go_and_the_rest_stays(
    retention_run: dg.ExecuteInProcessResult, seeded: dict[str, dict[str, str]], store: ObjectStore
) -> None:
    assert seeded["expired"] and not any(exists(store, uri) for uri in seeded["expired"])
    assert all(exists(store, uri) for uri in [*seeded["kept"], *seeded["outside"]])


def test_no_version_of_an_expired_object_is_left_to_read(
    retention_run: dg.ExecuteInProcessResult, seeded: dict[str, dict[str, str]], store: ObjectStore
) -> None:
    left = {uri: versions(store, uri) for uri in seeded["expired"]}
    assert left == {uri: [] for uri in seeded["expired"]}
    assert all(len(versions(store, uri)) == 1 for uri in seeded["kept"])  # the rest keeps its history


def test_clips_placed_or_not_go_with_their_frames_truth_and_failure_evidence(
    retention_run: dg.ExecuteInProcessResult, seeded: dict[str, dict[str, str]], store: ObjectStore
) -> None:
    """What comes of a clip: the unplaced one the sensor left in landing with a quarantine record,
    the simulator's truth beside it, its blurred frames, and the copies of rows its tables' contracts
    rejected; no version of any is left."""
    clip_things = {
        "unplaced clip": f"s3://{LANDING}/{CCTV_PREFIX}cam-01/",
        "unplaced record": f"s3://{QUARANTINE}/{CCTV_PREFIX}unplaced/",
        "truth": f"s3://{LANDING}/cctv-truth/",
        "evidence frame": f"s3://{BRONZE}/{CCTV_PREFIX}evidence/",
        "failure evidence": f"s3://{QUARANTINE}/contract-failures/cctv/",
    }
    for what, prefix in clip_things.items():
        expired = [uri for uri in seeded["expired"] if uri.startswith(prefix)]
        kept = [uri for uri in seeded["kept"] if uri.startswith(prefix)]
        assert expired and kept, what
        assert all(versions(store, uri) == [] for uri in expired), what
        assert all(exists(store, uri) for uri in kept), what


def test_expired_warehouse_days_go_and_are_recorded(
    retention_run: dg.ExecuteInProcessResult, tables: list[WarehouseTable], store: ObjectStore
) -> None:
    expired, kept = day_tables(tables, beyond_period=1), day_tables(tables, beyond_period=0)
    assert warehouse_days(tables) == kept
    metadata = materialization(retention_run).metadata
    rows = read_parquet(store, *parse_s3_uri(metadata["warehouse_record"].value)).to_dicts()
    assert {(r["relation"], r["day"]): r["rows"] for r in rows} == expired
    assert all(r["confirmed"] and r["run_id"] == retention_run.run_id for r in rows)
    assert metadata["warehouse_days_deleted"].value == len(expired) == len(tables)
    assert sum(metadata["warehouse_rows_deleted"].value.values()) == sum(expired.values())


def test_a_deleted_clip_takes_its_partition_with_it(
    retention_run: dg.ExecuteInProcessResult, seeded: dict[str, dict[str, str]], instance: dg.DagsterInstance
) -> None:
    expired, kept = clip_partitions_of(seeded["expired"]), clip_partitions_of(seeded["kept"])
    assert expired and kept
    partitions = set(instance.get_dynamic_partitions(clip_partitions.name or ""))
    assert not expired & partitions and kept <= partitions
    assert materialization(retention_run).metadata["clip_partitions_retired"].value == len(expired)


def test_the_record_lists_exactly_what_was_deleted(
    retention_run: dg.ExecuteInProcessResult, seeded: dict[str, dict[str, str]], store: ObjectStore
) -> None:
    rows = record_of(store, retention_run)
    assert {f"s3://{r['bucket']}/{r['key']}": r["dataset"] for r in rows} == seeded["expired"]
    # two versions of each, and the delete marker over one of them
    assert len(rows) == 2 * len(seeded["expired"]) + 1 and all(r["version_id"] for r in rows)
    periods = {dataset: entry.retention_days for dataset, entry in load_ownership().items()}
    for row in rows:
        assert row["partition_date"] == today() - timedelta(days=periods[row["dataset"]] + 1)
        assert row["retention_days"] == periods[row["dataset"]]
        assert (row["run_id"], row["deleted_on"], row["confirmed"]) == (retention_run.run_id, today(), True)
        assert row["last_modified"] is not None and row["location"].startswith(f"s3://{row['bucket']}/")
    metadata = materialization(retention_run).metadata
    by_dataset: dict[str, int] = {}
    for dataset in seeded["expired"].values():
        by_dataset[dataset] = by_dataset.get(dataset, 0) + 1
    assert metadata["objects_deleted"].value == by_dataset
    assert metadata["bytes_freed"].value == sum(r["bytes"] for r in rows) > 0
    assert metadata["dagster/row_count"].value == metadata["versions_erased"].value == len(rows)


def test_lineage_shows_each_dataset_deleted_from_as_a_truncated_input(
    retention_run: dg.ExecuteInProcessResult,
    store: ObjectStore,
    locations: list[Location],
    tables: list[WarehouseTable],
) -> None:
    job = DELETIONS.to_user_string()
    lineage_run = child_run_id(retention_run.run_id, job)
    keys = [o.key for o in store.list_objects(LINEAGE, "events/")]
    mine = [k for k in keys if (parsed := parse_lineage_event_key(k)) and parsed.run_id == lineage_run]
    events = {e["eventType"]: e for e in (json.loads(store.get_bytes(LINEAGE, k)) for k in mine)}
    assert set(events) == {"START", "COMPLETE"}
    assert all(event_errors(event) == [] for event in events.values())
    complete = events["COMPLETE"]
    assert complete["job"]["name"] == job
    assert complete["run"]["facets"]["parent"]["run"]["runId"] == retention_run.run_id
    # each object's dataset: its location, or for a department's copy the mart it is a day of
    deleted_from = {dataset_from_uri(loc.uri).uri for loc in locations if loc.bucket not in mart_buckets()}
    deleted_from |= {f"s3://{d.bucket}/{PUBLISHED[d.id][0]}" for d in load_departments()}
    deleted_from |= {warehouse_dataset(table.relation).uri for table in tables}
    inputs = {f"{d['namespace']}/{d['name']}": d["facets"] for d in complete["inputs"]}
    assert set(inputs) == deleted_from
    assert {f["lifecycleStateChange"]["lifecycleStateChange"] for f in inputs.values()} == {"TRUNCATE"}
    (output,) = complete["outputs"]
    assert f"{output['namespace']}/{output['name']}" == "s3://governance/retention/deletions"


def test_the_checks_pass_after_deletion(retention_run: dg.ExecuteInProcessResult) -> None:
    checks = check_results(retention_run)
    assert checks[CHECK_NAME].passed and checks[CHECK_NAME].metadata["objects_past_retention"].value == 0
    assert checks["steward_trained"].passed  # the definitions gave the new asset its steward check


def test_the_check_in_its_own_step_emits_its_lineage_run(
    retention_run: dg.ExecuteInProcessResult, store: ObjectStore
) -> None:
    """A run that reads the deletions record, its result an input assertion, as every check's."""
    job = f"{DELETIONS.to_user_string()}:{CHECK_NAME}"
    lineage_run = child_run_id(retention_run.run_id, job)
    keys = [o.key for o in store.list_objects(LINEAGE, "events/")]
    mine = [k for k in keys if (parsed := parse_lineage_event_key(k)) and parsed.run_id == lineage_run]
    events = {e["eventType"]: e for e in (json.loads(store.get_bytes(LINEAGE, k)) for k in mine)}
    assert set(events) == {"START", "COMPLETE"}
    assert all(event_errors(event) == [] for event in events.values())
    (read,) = events["COMPLETE"]["inputs"]
    assert f"{read['namespace']}/{read['name']}" == "s3://governance/retention/deletions"
    (assertion,) = read["inputFacets"]["dataQualityAssertions"]["assertions"]
    assert (assertion["name"], assertion["success"]) == (CHECK_NAME, True)


def test_the_check_alone_fails_on_a_leftover_and_the_next_run_deletes_it(
    retention_run: dg.ExecuteInProcessResult,
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    store: ObjectStore,
) -> None:
    dataset = "cctv/derived/detections"
    late_day = today() - timedelta(days=load_ownership()[dataset].retention_days + 5)
    (late,) = [
        uri
        for uri, ds in objects_dated(late_day).items()
        if ds == dataset and uri.startswith(f"s3://{BRONZE}/")
    ]
    put(store, late)
    check = dg.AssetCheckKey(DELETIONS, CHECK_NAME)
    check_only = dg.define_asset_job("retention_check", selection=dg.AssetSelection.checks(check))
    job = dg.Definitions.merge(definitions, dg.Definitions(jobs=[check_only])).resolve_job_def(
        "retention_check"
    )
    checked = job.execute_in_process(instance=instance, raise_on_error=False)
    assert not checked.get_asset_materialization_events()  # the check ran, nothing was deleted
    failed = check_results(checked)[CHECK_NAME]
    assert not failed.passed and failed.severity is dg.AssetCheckSeverity.ERROR
    assert failed.metadata["objects_past_retention"].value == 1
    assert late in failed.metadata["oldest"].value and exists(store, late)

    again = run(definitions, instance, JOB)
    assert again.success and check_results(again)[CHECK_NAME].passed
    assert [f"s3://{r['bucket']}/{r['key']}" for r in record_of(store, again)] == [late]


def test_the_check_fails_on_a_leftover_warehouse_day_and_the_next_run_deletes_it(
    retention_run: dg.ExecuteInProcessResult,
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    store: ObjectStore,
    tables: list[WarehouseTable],
) -> None:
    (table,) = [t for t in tables if t.dataset == "marts/traffic/fct_segment_traffic_hourly"]
    late = {(table.relation, today() - timedelta(days=table.retention_days + 3)): 2}
    put_rows(late, tables)  # a late backfill of a day already past the period
    check = dg.AssetCheckKey(DELETIONS, CHECK_NAME)
    check_only = dg.define_asset_job("retention_check", selection=dg.AssetSelection.checks(check))
    job = dg.Definitions.merge(definitions, dg.Definitions(jobs=[check_only])).resolve_job_def(
        "retention_check"
    )
    failed = check_results(job.execute_in_process(instance=instance, raise_on_error=False))[CHECK_NAME]
    assert not failed.passed and failed.metadata["warehouse_days_past_retention"].value == 1
    assert table.relation in failed.metadata["oldest"].value
    assert failed.metadata["by_dataset"].value == {table.dataset: 1}

    again = run(definitions, instance, JOB)
    assert again.success and check_results(again)[CHECK_NAME].passed
    record = materialization(again).metadata["warehouse_record"].value
    rows = read_parquet(store, *parse_s3_uri(record)).to_dicts()
    assert {(r["relation"], r["day"]): r["rows"] for r in rows} == late
    assert not set(late) & set(warehouse_days(tables))

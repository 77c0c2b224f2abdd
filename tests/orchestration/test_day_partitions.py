"""The daily partitions: where they start, that a day is one once it has ended, and that a mart reading
the day before of its parent says so to Dagster (a rebuilt day makes the next one stale). No server,
no dbt run: the definitions, the asset graph and a test instance."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.loader import LoadingContextForTest

from cityplatform.settings import SettingsError, load_settings
from citysim.landing import FIRST_DAY_FILE, first_landed_day, record_landed_day
from orchestration.defs.marts.assets import MANIFEST, READS_DAY_BEFORE, TRANSLATOR
from orchestration.lib.partitions import DAY_GRACE, MARTS_AT, day_partitions, first_partition_day

SEOUL = load_settings(timezone="Asia/Seoul").zone
HOURLY_AIR = dg.AssetKey(["marts", "environment", "fct_air_quality_hourly"])
AIR_HOURS = dg.AssetKey(["marts", "intermediate", "int_air_quality_district_hours_aggregated"])
FLOOD_ALERTS = dg.AssetKey(["marts", "disaster_management", "fct_flood_alerts"])
NOISE = dg.AssetKey(["marts", "environment", "fct_noise_exceedances"])
NOISE_READINGS = dg.AssetKey(["marts", "intermediate", "int_noise_readings_assessed"])
RIVER_LEVELS = dg.AssetKey(["marts", "disaster_management", "fct_river_levels_hourly"])
RIVER_READINGS = dg.AssetKey(["marts", "intermediate", "int_river_readings_classified"])
RAIN_READINGS = dg.AssetKey(["marts", "intermediate", "int_rain_readings_located"])
# (mart, parent): the mart's day also reads the parent's day before
DAY_BEFORE_READS = [
    (HOURLY_AIR, AIR_HOURS),
    (NOISE, NOISE_READINGS),  # the night begins the day before
    (FLOOD_ALERTS, RIVER_READINGS),  # an alert across midnight continues the day before's episode
    (FLOOD_ALERTS, RAIN_READINGS),  # the 6 hours of rain before a peak early in the day
    (RIVER_LEVELS, RAIN_READINGS),  # 12 hours of rain for KMA's heavy-rain criteria
]


def test_the_first_day_is_the_setting_else_the_first_landed_day_else_yesterday(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CITY_FIRST_DAY", raising=False)
    settings = load_settings(home=tmp_path)
    assert first_partition_day(settings) == settings.today() - timedelta(days=1)
    record_landed_day(settings.home_dir, date(2026, 11, 24))
    record_landed_day(settings.home_dir, date(2026, 11, 26))  # later: the first stays
    assert first_landed_day(settings.home_dir) == date(2026, 11, 24)
    assert first_partition_day(settings) == date(2026, 11, 24)
    record_landed_day(settings.home_dir, date(2026, 11, 20))  # earlier: the first moves back
    assert first_partition_day(settings) == date(2026, 11, 20)
    monkeypatch.setenv("CITY_FIRST_DAY", "2026-01-01")
    assert first_partition_day(load_settings(home=tmp_path)) == date(2026, 1, 1)


def test_a_spoiled_first_day_file_is_named(tmp_path: Path) -> None:
    (tmp_path / FIRST_DAY_FILE).write_text("last tuesday\n")
    with pytest.raises(SettingsError, match=f"{tmp_path / FIRST_DAY_FILE}: expected"):
        first_landed_day(tmp_path)


def test_a_day_is_a_partition_once_it_has_ended_and_the_first_is_the_first_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITY_FIRST_DAY", "2026-11-20")
    partitions = day_partitions(load_settings(home=tmp_path, timezone="Asia/Seoul"))
    midnight = datetime(2026, 11, 25, tzinfo=SEOUL)

    def last_at(now: datetime) -> str | None:
        with partition_loading_context(effective_dt=now):
            return partitions.get_last_partition_key()

    assert partitions.get_first_partition_key() == "2026-11-20"
    after = (timedelta(0), DAY_GRACE, MARTS_AT, timedelta(hours=23, minutes=59))
    assert [last_at(midnight + offset) for offset in after] == ["2026-11-24"] * len(after)
    assert last_at(midnight - timedelta(minutes=1)) == "2026-11-23"


def test_the_day_closes_after_the_lateness_limit_and_the_marts_follow_the_ingestion() -> None:
    assert timedelta(hours=1, minutes=10) == DAY_GRACE
    assert MARTS_AT > DAY_GRACE


@pytest.mark.parametrize(("mart", "parent"), DAY_BEFORE_READS)
def test_a_mart_that_reads_the_day_before_maps_to_both_days_of_its_parent(
    definitions: dg.Definitions, mart: dg.AssetKey, parent: dg.AssetKey
) -> None:
    graph = definitions.resolve_asset_graph()
    assert graph.get_partition_mapping(mart, parent) == dg.TimeWindowPartitionMapping(
        start_offset=-1, allow_nonexistent_upstream_partitions=True
    )
    upstream = graph.get_parent_partition_keys_for_child("2026-03-15", parent, mart)
    assert set(upstream.partitions_subset.get_partition_keys()) == {"2026-03-14", "2026-03-15"}
    downstream = graph.get_child_partition_keys_of_parent("2026-03-14", parent, mart)
    assert set(downstream) == {"2026-03-14", "2026-03-15"}
    first = graph.get(mart).partitions_def.get_first_partition_key()  # no day before: no error
    upstream = graph.get_parent_partition_keys_for_child(first, parent, mart)
    assert list(upstream.partitions_subset.get_partition_keys()) == [first]


def day_before_reads() -> list[tuple[dg.AssetKey, dg.AssetKey]]:
    """(model, parent) for every parent a model's ``meta.reads_day_before`` names, from the manifest."""
    models = {n["name"]: n for n in MANIFEST["nodes"].values() if n["resource_type"] == "model"}
    return sorted(
        (TRANSLATOR.get_asset_key(node), TRANSLATOR.get_asset_key(models[parent]))
        for node in models.values()
        for parent in node["meta"].get(READS_DAY_BEFORE, [])
    )


# The SQL of a model that reads before its window: `{{ run_start() }} - interval ...`.
READS_BEFORE_WINDOW = re.compile(r"run_start\(\)\s*\}\}\s*-\s*interval")


def test_a_model_reads_before_its_window_exactly_when_it_names_the_parents_it_reads_so() -> None:
    """What the SQL does and what Dagster is told agree: a model whose SQL reaches before the run's
    first day names in ``meta.reads_day_before`` the parents it reads so (its own parents only), and
    one that names any reads before its window. A cross-day read nobody declares would let a
    backfill of D leave D+1 looking fresh."""
    for node in MANIFEST["nodes"].values():
        if node["resource_type"] != "model":
            continue
        declared = node["meta"].get(READS_DAY_BEFORE, [])
        parents = {
            MANIFEST["nodes"][p]["name"] for p in node["depends_on"]["nodes"] if p.startswith("model.")
        }
        assert bool(READS_BEFORE_WINDOW.search(node["raw_code"])) == bool(declared), node["name"]
        assert set(declared) <= parents, node["name"]
    assert set(DAY_BEFORE_READS) <= set(day_before_reads())


def test_other_marts_read_their_own_day_only(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    shifted = {
        (key, parent)
        for key in graph.get_all_asset_keys()
        for parent in graph.get(key).parent_keys
        if isinstance(mapping := graph.get_partition_mapping(key, parent), dg.TimeWindowPartitionMapping)
        and mapping.start_offset != 0
    }
    assert sorted(shifted) == sorted([*day_before_reads(), (FLOOD_ALERTS, FLOOD_ALERTS)])


def test_flood_alerts_depend_on_their_own_day_before_so_a_rebuilt_day_has_the_next_downstream(
    definitions: dg.Definitions,
) -> None:
    """fct_flood_alerts continues an episode open at the end of the day before from its own row of
    that day: the asset graph has that self-dependency (the day before only), so D+1 is downstream
    of D and a backfill of both builds D first; the first day has no day before and needs none."""
    graph = definitions.resolve_asset_graph()
    assert FLOOD_ALERTS in graph.get(FLOOD_ALERTS).parent_keys
    assert graph.get_partition_mapping(FLOOD_ALERTS, FLOOD_ALERTS) == dg.TimeWindowPartitionMapping(
        start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
    )
    upstream = graph.get_parent_partition_keys_for_child("2026-03-15", FLOOD_ALERTS, FLOOD_ALERTS)
    assert list(upstream.partitions_subset.get_partition_keys()) == ["2026-03-14"]
    downstream = graph.get_child_partition_keys_of_parent("2026-03-14", FLOOD_ALERTS, FLOOD_ALERTS)
    assert list(downstream) == ["2026-03-15"]
    first = graph.get(FLOOD_ALERTS).partitions_def.get_first_partition_key()
    upstream = graph.get_parent_partition_keys_for_child(first, FLOOD_ALERTS, FLOOD_ALERTS)
    assert upstream.partitions_subset.is_empty and upstream.required_but_nonexistent_subset.is_empty


@pytest.mark.parametrize(("mart", "parent"), day_before_reads(), ids=lambda key: key.path[-1])
def test_rebuilding_a_day_of_a_parent_makes_the_next_day_of_its_reader_stale(
    definitions: dg.Definitions, instance: dg.DagsterInstance, mart: dg.AssetKey, parent: dg.AssetKey
) -> None:
    """Every mart that reads the day before: each of its parents (day-partitioned ones) and the mart
    built for four days, then the parent's second day rebuilt: that day and the next are stale."""
    graph = definitions.resolve_asset_graph()
    parents = [
        key
        for key in graph.get(mart).parent_keys
        if not isinstance(graph.get_partition_mapping(mart, key), dg.AllPartitionMapping)
    ]
    built = ["2026-05-09", "2026-05-10", "2026-05-11", "2026-05-12"]
    for key in (*parents, mart):
        for day in built:
            instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=day))
    days = built[1:]  # each with its day before built

    def status(day: str) -> StaleStatus:
        resolver = CachingStaleStatusResolver(instance, graph, LoadingContextForTest(instance))
        return resolver.get_status(mart, day)

    assert [status(day) for day in days] == [StaleStatus.FRESH] * 3
    instance.report_runless_asset_event(dg.AssetMaterialization(parent, partition=days[0]))
    assert [status(day) for day in days] == [StaleStatus.STALE, StaleStatus.STALE, StaleStatus.FRESH]


def test_a_day_of_the_marts_reads_every_clip_so_a_backfill_of_days_can_start(
    definitions: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    """The CCTV assets are partitioned by clip: mapped by key, a day would require a clip named like
    it, and the daemon refuses an asset backfill of the marts ("depends on non-existent partitions")."""
    graph = definitions.resolve_asset_graph()
    counts = dg.AssetKey(["cctv", "derived", "counts"])
    readers = [key for key in graph.get(counts).child_keys if key.path[0] == "marts"]
    assert readers
    for reader in readers:
        assert isinstance(graph.get_partition_mapping(reader, counts), dg.AllPartitionMapping)
        with partition_loading_context(dynamic_partitions_store=instance):
            upstream = graph.get_parent_partition_keys_for_child("2026-03-15", counts, reader)
        assert upstream.required_but_nonexistent_subset.is_empty

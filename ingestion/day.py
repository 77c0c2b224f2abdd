"""Ingest one day: manifest objects from landing -> bronze parquet per kind + one quarantine file.

Writing replaces the day's objects under fixed keys, so re-running a day never appends twice. The
manifest includes the next day's first slots, for the day's late readings; their lines of the next
day are left to that day's ingestion and counted as ``other_day``. Objects in a folder that is no
sensor kind are quarantined line by line as ``unknown_kind``, reported under their folder's name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

import polars as pl

from cityplatform.layout import bronze_readings_key, bronze_registry_key, quarantine_readings_key
from cityplatform.objectstore import BRONZE, QUARANTINE, ObjectStore, ParquetRecord, read_parquet
from cityplatform.sensor_kinds import SENSOR_KINDS
from ingestion.iot import (
    IngestReason,
    IngestResult,
    LandingFile,
    bronze_schema,
    ingest_kind,
    quarantine_objects,
)
from ingestion.landing import LandingManifest

# More kinds in flight than cores: while one holds the GIL (Pandera, the exact classifier), the
# others parse in DuckDB and polars. Three rather than all five bounds the memory of a big city.
KIND_WORKERS = 3


@dataclass
class DayIngest:
    results: dict[str, IngestResult]  # sensor kind (or unknown folder) -> result
    written: dict[str, ParquetRecord] = field(default_factory=dict)  # kind (or "quarantine") -> object

    @property
    def lines_in(self) -> int:
        return sum(r.lines_in for r in self.results.values())

    @property
    def accepted(self) -> int:
        return sum(r.accepted.height for r in self.results.values())

    @property
    def quarantined(self) -> int:
        return sum(r.quarantined.height for r in self.results.values())

    @property
    def other_day(self) -> int:
        return sum(r.other_day for r in self.results.values())

    @property
    def reasons(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for result in self.results.values():
            total.update(result.reasons)
        return dict(sorted(total.items()))

    @property
    def reconciles(self) -> bool:
        return all(r.reconciles for r in self.results.values())


def registered_sensor_ids(store: ObjectStore) -> list[str]:
    """Sensor ids from the bronze registry (materialised by ``iot/bronze/sensor_registry``)."""
    return read_parquet(store, BRONZE, bronze_registry_key("sensors"))["sensor_id"].to_list()


def ingest_kinds(
    load_files: Callable[[str], Sequence[LandingFile]],
    write_accepted: Callable[[str, pl.DataFrame], None],
    *,
    day: date,
    known_sensors: list[str],
    tz: ZoneInfo,
    bytes_per_kind: Mapping[str, int],
) -> dict[str, IngestResult]:
    """Load, ingest and write out every sensor kind; kinds overlap on the cores (polars/DuckDB release
    the GIL), each writing its accepted rows as soon as they are ready.

    The biggest kinds start first, so no core is left with a big kind alone at the end.
    """

    def ingest(kind: str) -> IngestResult:
        result = ingest_kind(kind, load_files(kind), day=day, known_sensors=known_sensors, tz=tz)
        write_accepted(kind, result.accepted.select(list(bronze_schema(kind))))
        return result

    largest_first = sorted(SENSOR_KINDS, key=lambda kind: -bytes_per_kind.get(kind, 0))
    with ThreadPoolExecutor(max_workers=KIND_WORKERS) as pool:
        results = dict(zip(largest_first, pool.map(ingest, largest_first), strict=True))
    return {kind: results[kind] for kind in SENSOR_KINDS}


def ingest_manifest(
    store: ObjectStore, manifest: LandingManifest, *, known_sensors: list[str], tz: ZoneInfo
) -> DayIngest:
    """Validate every landing line of the manifest's day and write bronze and quarantine to S3."""
    written: dict[str, ParquetRecord] = {}

    def fetch(kind: str) -> list[LandingFile]:
        objects = manifest.objects.get(kind, [])
        return [LandingFile(o.key, data) for o, data in zip(objects, store.get_many(objects), strict=True)]

    def write_bronze(kind: str, accepted: pl.DataFrame) -> None:
        written[kind] = store.put_parquet(BRONZE, bronze_readings_key(kind, manifest.day), accepted)

    sizes = {kind: sum(o.size for o in objects) for kind, objects in manifest.objects.items()}
    results = ingest_kinds(
        fetch, write_bronze, day=manifest.day, known_sensors=known_sensors, tz=tz, bytes_per_kind=sizes
    )
    known = ", ".join(SENSOR_KINDS)
    for folder in sorted(set(manifest.objects) - set(SENSOR_KINDS)):
        detail = f"landing/iot/{folder}/ is no sensor kind (known: {known})"
        results[folder] = quarantine_objects(folder, fetch(folder), IngestReason.UNKNOWN_KIND, detail)
    day_ingest = DayIngest(results, {kind: written[kind] for kind in SENSOR_KINDS})
    quarantine = pl.concat([r.quarantined for r in results.values()])
    day_ingest.written["quarantine"] = store.put_parquet(
        QUARANTINE, quarantine_readings_key(manifest.day), quarantine
    )
    return day_ingest

"""Ingest one day: manifest objects from landing -> bronze parquet per kind + one quarantine file.

Each run writes the day whole as a generation of its own and publishes it atomically
(``ingestion.publication``), so re-running a day never appends twice and readers never see half a
day. Each landing object is read at the etag the manifest recorded; one changed since is quarantined
unread (``changed_since_manifest``). A day is read ``CHUNK_BYTES`` of landing objects per kind at a
time, so memory does not grow with the day. An incremental ingestion (a new delivery of a day
already ingested) parses only the objects the day's published state (``ingest_state_key``) has not
seen, carrying the state's first deliveries so duplicates of earlier objects are still caught; the
day's bronze and quarantine come out exactly as a full ingestion would write them. The state must
cover a prefix of the manifest's objects, judged against the same registry: otherwise (an object
changed, or one slotted before another already ingested) the day is ingested whole again.

The manifest includes the next day's first slots, for the day's late readings; their lines of the next
day are left to that day's ingestion and counted as ``other_day``. Objects in a folder that is no
sensor kind are quarantined line by line as ``unknown_kind``, reported under their folder's name.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pyarrow.parquet as pq

from cityplatform.layout import (
    LANDING_IOT_PREFIX,
    bronze_readings_key,
    bronze_registry_key,
    ingest_state_key,
    landing_slot_start,
    new_generation,
    quarantine_readings_key,
)
from cityplatform.objectstore import (
    BRONZE,
    QUARANTINE,
    ObjectChanged,
    ObjectInfo,
    ObjectStore,
    ParquetRecord,
    parquet_bytes,
    read_parquet,
)
from cityplatform.sensor_kinds import MAX_LATENESS, SENSOR_KINDS
from ingestion.iot import (
    QUARANTINE_SCHEMA,
    SEEN_SCHEMA,
    IngestReason,
    IngestResult,
    LandingFile,
    bronze_schema,
    ingest_kind,
    quarantine_objects,
    quarantine_unread,
)
from ingestion.landing import LandingManifest
from ingestion.publication import QUARANTINE_FILE, Publication, load_publication, publish

# More kinds in flight than cores: while one holds the GIL (Pandera, the exact classifier), the
# others parse in DuckDB and polars. Three rather than all five bounds the memory of a big city.
KIND_WORKERS = 3
# Landing bytes one kind ingests at a time: memory follows this, not the size of the day.
CHUNK_BYTES = 8 * 2**20


@dataclass
class KindIngest:
    """One kind's (or unknown folder's) day, summed over its chunks; the accepted rows themselves
    went to the bronze writer chunk by chunk, so only their count is kept."""

    kind: str
    lines_in: int = 0
    accepted_rows: int = 0
    other_day: int = 0
    quarantined_chunks: list[pl.DataFrame] = field(default_factory=list)
    lines_parsed: int = 0  # lines this run read (the others were ingested by an earlier run)
    # The first deliveries a later line could still duplicate (see ``ingest_kind_chunks``).
    seen: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SEEN_SCHEMA))

    def add(self, result: IngestResult) -> None:
        self.lines_parsed += result.lines_in
        self.lines_in += result.lines_in
        self.accepted_rows += result.accepted.height
        self.other_day += result.other_day
        self.quarantined_chunks.append(_compact(result.quarantined))

    @property
    def quarantined(self) -> pl.DataFrame:
        return pl.concat([pl.DataFrame(schema=QUARANTINE_SCHEMA), *self.quarantined_chunks])

    @property
    def reasons(self) -> dict[str, int]:
        counts = self.quarantined.group_by("reason").len().sort("reason")
        return dict(zip(counts["reason"], counts["len"], strict=True))

    @property
    def reconciles(self) -> bool:
        return self.lines_in == self.accepted_rows + self.quarantined.height + self.other_day


@dataclass
class DayIngest:
    results: dict[str, KindIngest]  # sensor kind (or unknown folder) -> result
    written: dict[str, ParquetRecord]  # kind (or QUARANTINE_FILE) -> record
    publication: Publication  # what readers now read of the day

    @property
    def lines_in(self) -> int:
        return sum(r.lines_in for r in self.results.values())

    @property
    def lines_parsed(self) -> int:
        return sum(r.lines_parsed for r in self.results.values())

    @property
    def accepted(self) -> int:
        return sum(r.accepted_rows for r in self.results.values())

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


def _compact(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` owning its strings alone. A string column polars derives (a split, a filter, a
    gather) still points into the buffers it came from, such as a whole chunk's landing text, so a
    few rows kept from every chunk would keep every chunk: copied out, they keep only themselves."""
    return pl.DataFrame(pl.from_arrow(frame.to_arrow(compat_level=pl.CompatLevel.oldest())))


def byte_chunks(objects: Sequence[ObjectInfo], limit: int = CHUNK_BYTES) -> Iterator[list[ObjectInfo]]:
    """Consecutive runs of ``objects`` of at most ``limit`` bytes (an object bigger than that alone)."""
    chunk: list[ObjectInfo] = []
    size = 0
    for obj in objects:
        if chunk and size + obj.size > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(obj)
        size += obj.size
    if chunk:
        yield chunk


def ingest_kind_chunks(
    kind: str,
    chunks: Iterable[Sequence[LandingFile]],
    write_accepted: Callable[[pl.DataFrame], None],
    *,
    day: date,
    known_sensors: list[str],
    tz: ZoneInfo,
    start: KindIngest | None = None,
) -> KindIngest:
    """Ingest one kind's files chunk by chunk, in delivery order, exactly as one pass would.

    The first delivery of each reading is carried from chunk to chunk, so duplicates across chunks
    are found; only those a later line could still duplicate are kept: a line observed more than
    the lateness limit before its slot is refused as late before it is compared, and slots only
    advance, so first deliveries observed before the current chunk's first slot minus that limit
    are dropped. What is carried is a couple of hours of readings whatever the day's length; it
    comes back with the result, so a later delivery of the day can go on from it (``start``).
    """
    total = start or KindIngest(kind)
    seen = total.seen
    for files in chunks:
        slots = [s for f in files if (s := landing_slot_start(f.key, tz)) is not None]
        if slots:
            seen = seen.filter(pl.col("observed_at") >= (min(slots) - MAX_LATENESS).astimezone(UTC))
        result = ingest_kind(kind, files, day=day, known_sensors=known_sensors, tz=tz, seen=seen)
        write_accepted(result.accepted.select(list(bronze_schema(kind))))
        total.add(result)
        if result.first_seen is not None:
            seen = pl.concat([seen, _compact(result.first_seen)])
    total.seen = seen
    return total


def ingest_kinds(
    load_chunks: Callable[[str], Iterable[Sequence[LandingFile]]],
    write_accepted: Callable[[str, pl.DataFrame], None],
    *,
    day: date,
    known_sensors: list[str],
    tz: ZoneInfo,
    bytes_per_kind: Mapping[str, int],
    start: Mapping[str, KindIngest] | None = None,
) -> dict[str, KindIngest]:
    """Ingest and write out every sensor kind, chunk by chunk; kinds overlap on the cores
    (polars/DuckDB release the GIL), each writing its accepted rows chunk by chunk.

    The biggest kinds start first, so no core is left with a big kind alone at the end.
    """

    def ingest(kind: str) -> KindIngest:
        return ingest_kind_chunks(
            kind,
            load_chunks(kind),
            lambda accepted: write_accepted(kind, accepted),
            day=day,
            known_sensors=known_sensors,
            tz=tz,
            start=(start or {}).get(kind),
        )

    largest_first = sorted(SENSOR_KINDS, key=lambda kind: -bytes_per_kind.get(kind, 0))
    with ThreadPoolExecutor(max_workers=KIND_WORKERS) as pool:
        results = dict(zip(largest_first, pool.map(ingest, largest_first), strict=True))
    return {kind: results[kind] for kind in SENSOR_KINDS}


class ParquetSink:
    """Frames of one schema appended to a local parquet file as row groups (zstd, statistics, as
    ``parquet_bytes`` writes): a day's bronze is never held in memory whole."""

    def __init__(self, path: Path, schema: Mapping[str, pl.DataType]) -> None:
        self.path = path
        self._writer = pq.ParquetWriter(
            path, pl.DataFrame(schema=dict(schema)).to_arrow().schema, compression="zstd"
        )

    def write(self, frame: pl.DataFrame) -> None:
        if frame.height:
            self._writer.write_table(frame.to_arrow())

    def close(self) -> None:
        self._writer.close()


def _folder_of(key: str) -> str:
    """The folder under ``landing/iot/`` a landing object lies in (its sensor kind, or not)."""
    return key.removeprefix(LANDING_IOT_PREFIX).split("/", 1)[0]


def registered_sensor_ids(store: ObjectStore) -> list[str]:
    """Sensor ids from the bronze registry (materialised by ``iot/bronze/sensor_registry``)."""
    return read_parquet(store, BRONZE, bronze_registry_key("sensors"))["sensor_id"].to_list()


def sensors_digest(known_sensors: Iterable[str]) -> str:
    """Digest of the registered sensor ids a day was judged against."""
    return hashlib.sha256("\n".join(sorted(known_sensors)).encode()).hexdigest()[:16]


def _resume_from(
    store: ObjectStore, manifest: LandingManifest, sensors: str
) -> tuple[Publication, dict[str, KindIngest], dict[str, int]] | None:
    """The day's publication, each kind's totals so far and how many of its manifest objects they
    cover, from the published state, if it covers a prefix of every kind's objects at the same etags
    under the same registry; else None (the day is ingested whole)."""
    published = load_publication(store, manifest.day)
    if published is None or not published.state:
        return None
    state = json.loads(store.get_bytes(BRONZE, published.state["state.json"]))
    if state["sensors"] != sensors or set(state["objects"]) - set(manifest.objects):
        return None
    done: dict[str, int] = {}
    for folder, ingested in state["objects"].items():
        current = [f"{o.key}@{o.etag}" for o in manifest.objects[folder]]
        if current[: len(ingested)] != ingested:
            return None
        done[folder] = len(ingested)
    seen = read_parquet(store, BRONZE, published.state["seen.parquet"])
    quarantine = published.read_quarantine(store)
    start = {
        folder: KindIngest(
            folder,
            lines_in=counts["lines_in"],
            accepted_rows=counts["accepted"],
            other_day=counts["other_day"],
            quarantined_chunks=[quarantine.filter(pl.col("kind") == folder)],
            seen=seen.filter(pl.col("kind") == folder).drop("kind"),
        )
        for folder, counts in state["counts"].items()
    }
    return published, start, done


def _save_state(
    store: ObjectStore,
    manifest: LandingManifest,
    results: Mapping[str, KindIngest],
    sensors: str,
    generation: str,
) -> dict[str, str]:
    """Write the state a later delivery goes on from; its keys by name."""
    seen = pl.concat(
        [pl.DataFrame(schema={"kind": pl.String, **SEEN_SCHEMA})]
        + [r.seen.select(pl.lit(kind).alias("kind"), pl.all()) for kind, r in results.items()]
    )
    keys = {name: ingest_state_key(manifest.day, generation, name) for name in ("seen.parquet", "state.json")}
    store.put_bytes(BRONZE, keys["seen.parquet"], parquet_bytes(seen))
    state = {
        "sensors": sensors,
        "objects": {folder: [f"{o.key}@{o.etag}" for o in objs] for folder, objs in manifest.objects.items()},
        "counts": {
            kind: {"lines_in": r.lines_in, "accepted": r.accepted_rows, "other_day": r.other_day}
            for kind, r in results.items()
        },
    }
    store.put_bytes(BRONZE, keys["state.json"], json.dumps(state).encode(), "application/json")
    return keys


def ingest_manifest(
    store: ObjectStore,
    manifest: LandingManifest,
    *,
    known_sensors: list[str],
    tz: ZoneInfo,
    incremental: bool = False,
) -> DayIngest:
    """Validate every landing line of the manifest's day, write bronze and quarantine to S3 as a new
    generation and publish it (``ingestion.publication``), fetching and ingesting each kind
    ``CHUNK_BYTES`` of landing objects at a time.

    ``incremental``: parse only the objects the day's published state has not ingested yet, when
    that gives what a full ingestion would (see the module's note); the day is replaced either way.
    """
    day = manifest.day
    generation = new_generation()
    sensors = sensors_digest(known_sensors)
    resumed = _resume_from(store, manifest, sensors) if incremental else None
    previous, start, done = resumed or (None, {}, {})
    fresh = {folder: objs[done.get(folder, 0) :] for folder, objs in manifest.objects.items()}

    # folder -> key -> why: objects whose content is no longer the one the manifest recorded
    changed: dict[str, dict[str, str]] = {folder: {} for folder in manifest.objects}

    def fetch(objects: Sequence[ObjectInfo]) -> list[LandingFile]:
        """The objects at the content the manifest recorded (its etag); the others are set aside."""
        files = []
        for obj, data in zip(objects, store.get_many_pinned(objects), strict=True):
            if isinstance(data, ObjectChanged):
                changed[_folder_of(obj.key)][obj.key] = f"changed since its manifest: {data}"
            else:
                files.append(LandingFile(obj.key, data))
        return files

    def load_chunks(kind: str) -> Iterator[list[LandingFile]]:
        return (files for chunk in byte_chunks(fresh.get(kind, [])) if (files := fetch(chunk)))

    written: dict[str, ParquetRecord] = {}
    with tempfile.TemporaryDirectory(prefix="bronze-") as tmp:
        # A kind with nothing new keeps its published file; one with new objects gets the stored
        # rows (copied, not parsed) followed by the new ones.
        rewrite = [k for k in SENSOR_KINDS if previous is None or k not in start or fresh.get(k)]
        sinks = {k: ParquetSink(Path(tmp) / f"{k}.parquet", bronze_schema(k)) for k in rewrite}
        for kind in rewrite:
            if previous is not None and kind in start:
                stored = Path(tmp) / f"{kind}.stored.parquet"
                store.get_file(BRONZE, previous.bronze_key(kind), stored)
                for batch in pq.ParquetFile(stored).iter_batches():
                    sinks[kind].write(pl.DataFrame(pl.from_arrow(batch)))
                stored.unlink()
        results: dict[str, KindIngest] = ingest_kinds(
            load_chunks,
            lambda kind, accepted: sinks[kind].write(accepted),
            day=day,
            known_sensors=known_sensors,
            tz=tz,
            bytes_per_kind={kind: sum(o.size for o in objects) for kind, objects in fresh.items()},
            start=start,
        )
        for kind in SENSOR_KINDS:
            if kind in sinks:
                sinks[kind].close()
                key = bronze_readings_key(kind, day, generation)
                written[kind] = store.put_parquet_file(BRONZE, key, sinks[kind].path)
            elif previous is not None:
                written[kind] = previous.files[kind]  # nothing new of this kind: its file stays
    known = ", ".join(SENSOR_KINDS)
    for folder in sorted(set(manifest.objects) - set(SENSOR_KINDS)):
        detail = f"landing/iot/{folder}/ is no sensor kind (known: {known})"
        results[folder] = start.get(folder) or KindIngest(folder)
        for chunk in byte_chunks(fresh[folder]):
            if files := fetch(chunk):
                results[folder].add(quarantine_objects(folder, files, IngestReason.UNKNOWN_KIND, detail))
    for folder, unread in changed.items():
        if unread:
            results[folder].add(quarantine_unread(folder, unread, IngestReason.CHANGED_SINCE_MANIFEST))
    quarantine = pl.concat([r.quarantined for r in results.values()])
    written[QUARANTINE_FILE] = store.put_parquet(
        QUARANTINE, quarantine_readings_key(day, generation), quarantine
    )
    state = _save_state(store, manifest, results, sensors, generation)
    publication = Publication(day, generation, written, state)
    publish(store, publication)
    return DayIngest(results, written, publication)

"""A day's IoT bronze published atomically: what readers read is what the day's publication names.

An ingestion run writes every file of the day (each kind's bronze readings, the quarantined lines,
the state a later delivery goes on from) under a generation of its own, then the day's publication
(``readings_publication_key``), one small JSON object whose single PUT switches readers from the
previous generation to the new one at once. A run killed before that leaves the previous day (or
none) in front of readers; its files are unnamed and the next publication removes them, as it
removes every earlier generation it no longer names. Readers (dbt's bronze models and views, the
contract check, ``city verify``, incremental ingestion) follow the publication, never a listing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import polars as pl

from cityplatform.layout import (
    bronze_readings_folder,
    generation_of,
    ingest_state_folder,
    quarantine_readings_folder,
    readings_publication_key,
)
from cityplatform.objectstore import (
    BRONZE,
    PARQUET_RECORD_SUFFIX,
    QUARANTINE,
    ObjectStore,
    ParquetRecord,
    read_parquet,
)
from cityplatform.sensor_kinds import SENSOR_KINDS

QUARANTINE_FILE = "quarantine"  # the publication's name for the day's quarantined lines


@dataclass(frozen=True)
class Publication:
    """The files of one published day: each kind's bronze (bronze bucket), the quarantine (quarantine
    bucket), each with its record, and the ingestion state (bronze bucket)."""

    day: date
    generation: str
    files: dict[str, ParquetRecord]  # sensor kind, or QUARANTINE_FILE -> its record
    state: dict[str, str]  # name -> bronze key

    def bronze_key(self, kind: str) -> str:
        return self.files[kind].info.key

    @property
    def quarantine_key(self) -> str:
        return self.files[QUARANTINE_FILE].info.key

    def read_bronze(self, store: ObjectStore, kind: str) -> pl.DataFrame:
        return read_parquet(store, BRONZE, self.bronze_key(kind))

    def read_quarantine(self, store: ObjectStore) -> pl.DataFrame:
        return read_parquet(store, QUARANTINE, self.quarantine_key)

    def to_json(self) -> bytes:
        document = {
            "day": self.day.isoformat(),
            "generation": self.generation,
            # s3:// URIs, so a reader with no knowledge of the layout (DuckDB in dbt) follows them
            "files": {name: record.metadata() for name, record in self.files.items()},
            "state": self.state,
        }
        return json.dumps(document, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Publication:
        document = json.loads(data)
        files = {name: ParquetRecord.from_metadata(record) for name, record in document["files"].items()}
        return cls(date.fromisoformat(document["day"]), document["generation"], files, document["state"])


def load_publication(store: ObjectStore, day: date) -> Publication | None:
    """The day's publication, or None when no ingestion of it has completed."""
    key = readings_publication_key(day)
    if store.stat(BRONZE, key) is None:
        return None
    return Publication.from_json(store.get_bytes(BRONZE, key))


def publish(store: ObjectStore, publication: Publication) -> None:
    """Switch readers to ``publication`` (one PUT), then remove what no reader can reach any more:
    every earlier generation's files of the day that it does not name (a kind with nothing new
    keeps its earlier file). A later generation, a run still writing, is left alone."""
    store.put_bytes(
        BRONZE, readings_publication_key(publication.day), publication.to_json(), "application/json"
    )
    named = {record.info.key for record in publication.files.values()} | set(publication.state.values())
    day = publication.day
    folders = [(BRONZE, bronze_readings_folder(kind, day)) for kind in SENSOR_KINDS]
    folders += [(QUARANTINE, quarantine_readings_folder(day)), (BRONZE, ingest_state_folder(day))]
    for bucket, folder in folders:
        stale = [
            o.key
            for o in store.list_objects(bucket, folder)
            if (generation := generation_of(o.key)) is None  # written before generations
            or (generation < publication.generation and _parquet_of(o.key) not in named)
        ]
        store.delete_keys(bucket, stale)


def _parquet_of(key: str) -> str:
    """The file a key belongs to: itself, or the parquet a record beside it describes."""
    return key.removesuffix(PARQUET_RECORD_SUFFIX)

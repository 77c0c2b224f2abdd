"""A clip's outputs published atomically: readers read the clip's newest published generation.

A run writes every output of a clip (each table's parquet with its record, and the blurred evidence
frames) under a generation of its own, then that generation's publication (``clip_publication_key``),
a small JSON object naming them with their records; its single PUT switches readers from the
previous generation to the new one at once. The published generation is the newest that has a
publication, which a listing of the clip's publications tells: dbt's cctv sources find each clip's
files from the keys alone (one listing per day, not one read per clip), and ``city verify`` reads
the publication's records. A run killed or failing before its PUT leaves the clip's previous outputs
(or none) in front of readers, never some tables new and others old; the next publication removes
its files with every earlier generation and publication. Two runs of one clip at once: the one that
started later is the one read, whichever publishes last.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import polars as pl

from cityplatform.layout import (
    CCTV_TABLES,
    CLIP_EVIDENCE,
    CLIP_PUBLICATIONS,
    ClipName,
    bronze_cctv_prefix,
    bronze_clip_folder,
    bronze_clip_key,
    clip_publication_key,
    generation_of,
    new_generation,
)
from cityplatform.objectstore import ObjectStore, ObjectStoreError, ParquetRecord


@dataclass(frozen=True)
class ClipPublication:
    """The outputs of one analysed clip that readers read: each table's parquet, with its record
    (by table name), and its evidence frames (keys), all of one generation."""

    clip: str
    camera_id: str  # the camera it was analysed as
    generation: str
    files: dict[str, ParquetRecord]
    evidence: tuple[str, ...] = ()

    def to_json(self) -> bytes:
        document = {
            "clip": self.clip,
            "camera_id": self.camera_id,
            "generation": self.generation,
            # s3:// URIs with the rows and sha256 their writes recorded: what `city verify` checks
            "files": {table: record.metadata() for table, record in self.files.items()},
            "evidence": list(self.evidence),
        }
        return json.dumps(document, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes) -> ClipPublication:
        document = json.loads(data)
        files = {table: ParquetRecord.from_metadata(record) for table, record in document["files"].items()}
        return cls(
            document["clip"],
            document["camera_id"],
            document["generation"],
            files,
            tuple(document["evidence"]),
        )


def write_clip(
    store: ObjectStore,
    bucket: str,
    name: ClipName,
    tables: Mapping[str, pl.DataFrame],
    evidence: Mapping[str, bytes] | None = None,
    camera_id: str | None = None,
) -> ClipPublication:
    """Write a clip's tables (name -> frame) and evidence frames (file name -> JPEG) as a new
    generation, then publish it; return the publication."""
    camera, generation = camera_id or name.camera_id, new_generation()
    files = {
        table: store.put_parquet(bucket, bronze_clip_key(table, name, generation, camera_id=camera), frame)
        for table, frame in tables.items()
    }
    frames = tuple(
        store.put_bytes(
            bucket, bronze_clip_key(CLIP_EVIDENCE, name, generation, file, camera), jpeg, "image/jpeg"
        ).key
        for file, jpeg in (evidence or {}).items()
    )
    publication = ClipPublication(name.format(), camera, generation, files, frames)
    publish_clip(store, bucket, name, publication)
    return publication


def publish_clip(store: ObjectStore, bucket: str, name: ClipName, publication: ClipPublication) -> None:
    """Switch readers to ``publication`` (one PUT), then remove what no reader can reach any more:
    every earlier generation of the clip's outputs and publications, and any written before
    generations. A later generation, a run still writing, is left alone."""
    camera, generation = publication.camera_id, publication.generation
    key = clip_publication_key(name, generation, camera)
    store.put_bytes(bucket, key, publication.to_json(), "application/json")
    stale = []
    for table in (*CCTV_TABLES, CLIP_EVIDENCE, CLIP_PUBLICATIONS):
        # without its slash, the folder's prefix also lists the clip's files from before generations
        prefix = bronze_clip_folder(table, name, camera).removesuffix("/")
        stale += [
            o.key
            for o in store.list_objects(bucket, prefix)
            if (found := generation_of(o.key)) is None or found < generation
        ]
    if refused := store.delete_keys(bucket, stale):
        raise ObjectStoreError(f"cannot remove earlier outputs of {name.format()}: {', '.join(refused)}")


def clip_publications(store: ObjectStore, bucket: str, day: date) -> list[ClipPublication]:
    """What readers read of every clip of a local day (the day its start falls on): each clip's
    newest publication."""
    newest: dict[str, str] = {}  # clip folder -> its newest publication's key
    for o in store.list_objects(bucket, bronze_cctv_prefix(CLIP_PUBLICATIONS, day)):
        folder = o.key.rsplit("/", 1)[0]
        if generation_of(o.key) is not None and o.key > newest.get(folder, ""):
            newest[folder] = o.key
    return [ClipPublication.from_json(store.get_bytes(bucket, key)) for key in sorted(newest.values())]

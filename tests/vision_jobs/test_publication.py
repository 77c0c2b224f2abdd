"""A clip's outputs published whole on the real S3 server: readers follow the clip's publication, so a
run that stopped partway leaves them the previous outputs, and the next publication removes every
other generation (and files from before generations)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl

from cityplatform.layout import (
    CCTV_TABLES,
    ClipName,
    bronze_clip_folder,
    bronze_clip_key,
    clip_publication_key,
    new_generation,
)
from cityplatform.objectstore import BRONZE, PARQUET_RECORD_SUFFIX, ObjectStore, read_parquet
from vision_jobs.publication import ClipPublication, clip_publications, write_clip

SEOUL = ZoneInfo("Asia/Seoul")
CLIP = ClipName("cam-pub", datetime(2031, 9, 4, 10, 15, tzinfo=SEOUL))  # this module's own clip


def tables(run: int) -> dict[str, pl.DataFrame]:
    return {table: pl.DataFrame({"run": [run] * run}) for table in CCTV_TABLES}


def clip_objects(store: ObjectStore) -> list[str]:
    """Every object of the clip under any table or its evidence, whatever generation."""
    return sorted(
        o.key
        for table in (*CCTV_TABLES, "evidence")
        for o in store.list_objects(BRONZE, bronze_clip_folder(table, CLIP).removesuffix("/"))
    )


def read_published(store: ObjectStore) -> dict[str, int]:
    """What a reader following the day's publications reads: each table's run number."""
    (publication,) = [
        p for p in clip_publications(store, BRONZE, CLIP.start.date()) if p.clip == CLIP.format()
    ]
    return {
        table: read_parquet(store, BRONZE, record.info.key)["run"].unique().item()
        for table, record in publication.files.items()
    }


def test_a_run_that_stopped_partway_leaves_readers_the_last_publication(store: ObjectStore) -> None:
    first = write_clip(store, BRONZE, CLIP, tables(1), {"frame-000001.jpg": b"jpeg 1"})
    assert read_published(store) == dict.fromkeys(CCTV_TABLES, 1)
    # a second run killed after writing two of its tables, before its publication
    stopped = new_generation()
    for table in CCTV_TABLES[:2]:
        store.put_parquet(BRONZE, bronze_clip_key(table, CLIP, stopped), tables(2)[table])
    assert read_published(store) == dict.fromkeys(CCTV_TABLES, 1)  # never some tables new, some old
    third = write_clip(store, BRONZE, CLIP, tables(3), {"frame-000002.jpg": b"jpeg 3"})
    assert read_published(store) == dict.fromkeys(CCTV_TABLES, 3)
    # only the third run's files are left: the first's, and the stopped run's, are gone
    named = {r.info.key for r in third.files.values()} | set(third.evidence)
    assert {k for k in clip_objects(store) if not k.endswith(PARQUET_RECORD_SUFFIX)} == named
    assert not any(first.generation in k or stopped in k for k in clip_objects(store))
    publications = [o.key for o in store.list_objects(BRONZE, bronze_clip_folder("publications", CLIP))]
    assert publications == [clip_publication_key(CLIP, third.generation)]


def test_the_newest_published_generation_is_the_one_read(store: ObjectStore) -> None:
    """A run killed between its publication and its cleanup leaves two publications: readers read
    the newer, and the next publication removes both."""
    clip = ClipName(CLIP.camera_id, CLIP.start.replace(hour=13))
    write_clip(store, BRONZE, clip, tables(1))
    generation = new_generation()
    files = {
        t: store.put_parquet(BRONZE, bronze_clip_key(t, clip, generation), f) for t, f in tables(2).items()
    }
    store.put_bytes(
        BRONZE,
        clip_publication_key(clip, generation),
        ClipPublication(clip.format(), clip.camera_id, generation, files).to_json(),
    )
    read = {p.clip: p.generation for p in clip_publications(store, BRONZE, clip.start.date())}
    assert read[clip.format()] == generation
    last = write_clip(store, BRONZE, clip, tables(3))
    publications = [o.key for o in store.list_objects(BRONZE, bronze_clip_folder("publications", clip))]
    assert publications == [clip_publication_key(clip, last.generation)]


def test_files_from_before_generations_go_with_the_first_publication(store: ObjectStore) -> None:
    clip = ClipName(CLIP.camera_id, CLIP.start.replace(hour=11))
    legacy = bronze_clip_folder("counts", clip).removesuffix("/") + ".parquet"  # the layout before
    store.put_parquet(BRONZE, legacy, pl.DataFrame({"run": [0]}))
    write_clip(store, BRONZE, clip, {"counts": pl.DataFrame({"run": [1]})})
    assert store.stat(BRONZE, legacy) is None


def test_a_publication_reads_back_as_written(store: ObjectStore) -> None:
    clip = ClipName(CLIP.camera_id, CLIP.start.replace(hour=12))
    written = write_clip(store, BRONZE, clip, tables(2), {"frame-000007.jpg": b"jpeg"}, camera_id="cam-moved")
    read = ClipPublication.from_json(written.to_json())
    assert (read.clip, read.camera_id, read.generation, read.evidence) == (
        written.clip,
        "cam-moved",
        written.generation,
        written.evidence,
    )
    assert {t: (r.info.uri, r.rows, r.sha256) for t, r in read.files.items()} == {
        t: (r.info.uri, r.rows, r.sha256) for t, r in written.files.items()
    }
    assert all(
        "/camera=cam-moved/" in key for key in (*read.evidence, *(r.info.key for r in read.files.values()))
    )

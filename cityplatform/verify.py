"""``city verify``: every parquet object of some days read back against the record its write left
beside it (:meth:`cityplatform.objectstore.ObjectStore.put_parquet`).

A problem is one of three: ``mismatch`` (the bytes' checksum or row count differ from the record, or
the file no longer reads as parquet), ``missing`` (a record, or a run's recorded write, with no file)
and ``extra`` (a parquet object that no write recorded).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.parquet as pq
import urllib3
from minio.error import S3Error

from cityplatform.objectstore import PARQUET_RECORD_SUFFIX, ObjectStore, ObjectStoreError, parquet_record_key

MISMATCH, MISSING, EXTRA = "mismatch", "missing", "extra"
_RECORD = f".parquet{PARQUET_RECORD_SUFFIX}"
_GONE = {"NoSuchKey", "NoSuchBucket", "NoSuchObject"}


@dataclass(frozen=True)
class Location:
    """One dataset's objects of one day: a bucket and key prefix, and the keys that a run recorded
    writing there (so a file deleted with its record is still missed)."""

    dataset: str
    bucket: str
    prefix: str
    expected: tuple[str, ...] = ()

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass(frozen=True)
class Problem:
    kind: str  # MISMATCH, MISSING or EXTRA
    dataset: str
    uri: str
    detail: str


@dataclass
class Verification:
    files: int = 0  # parquet objects read back
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    store: ObjectStore, locations: Iterable[Location], progress: Callable[[str, int], None] | None = None
) -> Verification:
    """Read back every parquet object and record under ``locations``; ``progress`` hears each
    location's URI and how many came before it. Storage failures raise :class:`ObjectStoreError`."""
    result = Verification()
    for done, location in enumerate(locations):
        if progress is not None:
            progress(location.uri, done)
        try:
            _verify_location(store, location, result)
        except S3Error as exc:
            raise ObjectStoreError(f"S3 refused reading {location.uri}: {exc.code}") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise store.unreachable(exc) from exc
    return result


def _verify_location(store: ObjectStore, location: Location, result: Verification) -> None:
    try:
        keys = {o.key for o in store.list_objects(location.bucket, location.prefix)}
    except S3Error as exc:
        if exc.code != "NoSuchBucket":
            raise
        keys = set()  # a bucket never written holds no file and no record
    files = {k for k in keys if k.endswith(".parquet")}
    recorded = {k.removesuffix(PARQUET_RECORD_SUFFIX) for k in keys if k.endswith(_RECORD)}

    def problem(kind: str, key: str, detail: str) -> None:
        result.problems.append(Problem(kind, location.dataset, f"s3://{location.bucket}/{key}", detail))

    for key in sorted(files | recorded | set(location.expected)):
        if key not in files:
            by = "its record beside it" if key in recorded else "the run that wrote it"
            problem(MISSING, key, f"no file, though {by} says it was written")
        elif key not in recorded:
            problem(EXTRA, key, "a parquet file that no write recorded")
        elif (detail := _compare(store, location.bucket, key)) is not None:
            result.files += 1
            problem(MISMATCH, key, detail)
        else:
            result.files += 1


def _compare(store: ObjectStore, bucket: str, key: str) -> str | None:
    """Why the object ``key`` differs from its record, or ``None`` when it matches."""
    try:
        record = json.loads(store.get_bytes(bucket, parquet_record_key(key)))
        rows, sha256 = int(record["rows"]), str(record["sha256"])
    except (ValueError, KeyError, TypeError) as exc:
        return f"its record {parquet_record_key(key)} is unreadable ({exc})"
    data = store.get_bytes(bucket, key)
    differences = []
    if (actual := hashlib.sha256(data).hexdigest()) != sha256:
        differences.append(f"sha256 {actual[:12]}… but {sha256[:12]}… was written")
    try:
        read_rows = pq.read_metadata(io.BytesIO(data)).num_rows
    except (pa.ArrowException, OSError) as exc:
        differences.append(f"not readable as parquet ({exc})")
    else:
        if read_rows != rows:
            differences.append(f"{read_rows} rows but {rows} were written")
    return "; ".join(differences) or None

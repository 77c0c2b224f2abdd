"""The one place the platform talks S3: a thin layer over the ``minio`` client.

Pointing the platform at a MinIO cluster instead of the embedded server is a settings change:
everything above this module sees buckets, keys and etags, never a server.
"""

from __future__ import annotations

import hashlib
import io
import json
import ssl
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import pyarrow.parquet as pq
import urllib3
from minio import Minio
from minio.deleteobjects import DeleteObject
from minio.error import InvalidResponseError, S3Error
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from cityplatform.settings import Settings

# Core buckets; department mart buckets (marts-<bucket_suffix>) come from the governance registry.
LANDING = "landing"
BRONZE = "bronze"
QUARANTINE = "quarantine"
LINEAGE = "lineage"
GOVERNANCE = "governance"  # ownership ledger, scorecards, steward reports, retention records
CORE_BUCKETS = (LANDING, BRONZE, QUARANTINE, LINEAGE, GOVERNANCE)

PARQUET_CONTENT_TYPE = "application/vnd.apache.parquet"
# Beside every parquet object the platform writes: its row count and checksum (``city verify``).
# The name ends in ``.json``, so readers that glob ``*.parquet`` never see it.
PARQUET_RECORD_SUFFIX = ".manifest.json"

_CREDENTIAL_ERRORS = {"SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied"}

# Seconds. Data requests may wait a while for a busy server to start answering (a large PUT is
# stored before the reply); a ping asks for the bucket list, which any S3 server answers at once, so
# an endpoint that accepts connections and never answers is reported within seconds, not minutes.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 60.0
PROBE_READ_TIMEOUT = 5.0
# A data request rides out a server restart of a few seconds: a refused connection is tried again
# after 0, 1, 2, 4, 8 and 8 s (about 23 s in all) before the caller sees an ObjectStoreError; a
# ping tries once more only, so a server that is down is reported at once.
CONNECT_RETRIES = 6
BACKOFF_MAX = 8.0
# A connection dropped while a GET's body streams (the server stopped mid-answer) is outside
# urllib3's retries: the whole GET is tried again, this many times in all.
GET_ATTEMPTS = 4

# What a request raises when the server is not there or goes away (never a local file's error).
_TRANSIENT = (urllib3.exceptions.HTTPError, ConnectionError)


CauseT = TypeVar("CauseT", bound=BaseException)


class ObjectStoreError(RuntimeError):
    """A storage problem explained in one line, with what to do about it."""


class ObjectChanged(ObjectStoreError):
    """An object no longer holds the content it was listed with (its etag or version is gone)."""

    def __init__(self, obj: ObjectInfo, code: str) -> None:
        super().__init__(f"{obj.uri} changed since it was listed at etag {obj.etag} ({code})")
        self.obj = obj


class ObjectStoreTLSError(ObjectStoreError):
    """TLS with S3 failed (an untrusted certificate, or no TLS on that port): waiting will not help."""


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    key: str
    etag: str
    size: int
    last_modified: datetime | None = None
    version_id: str | None = None  # set when listed with versions: this one version of the key

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class ParquetRecord:
    """What a parquet write recorded, beside the object and in its run's metadata, so that
    ``city verify`` can tell a changed, lost or stray file from the one written."""

    info: ObjectInfo
    rows: int
    sha256: str  # of the object's bytes

    def metadata(self) -> dict[str, object]:
        """The record as a run's asset metadata (and as the sidecar's JSON)."""
        return {"uri": self.info.uri, "rows": self.rows, "sha256": self.sha256, "bytes": self.info.size}

    @classmethod
    def from_metadata(cls, record: Mapping[str, Any]) -> ParquetRecord:
        """The record :meth:`metadata` wrote (as a publication holds it), read back."""
        bucket, key = parse_s3_uri(str(record["uri"]))
        return cls(
            ObjectInfo(bucket, key, "", int(record["bytes"])), int(record["rows"]), str(record["sha256"])
        )


def parquet_record_key(key: str) -> str:
    """Where the record of the parquet object ``key`` lives: beside it, in the same bucket."""
    return f"{key}{PARQUET_RECORD_SUFFIX}"


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> ``(bucket, key)``, with an error naming the bad URI."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"not an s3://bucket/key URI: {uri!r}")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key


class ObjectStore:
    """Buckets, keys and bytes; nothing about which server is behind them."""

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        *,
        secure: bool = False,
        region: str = "us-east-1",
        ca_file: Path | None = None,
    ) -> None:
        """``ca_file``: the CA bundle (PEM) that the server's certificate must chain to when
        ``secure``; without it, the system's CAs."""
        self.endpoint = endpoint
        self.secure = secure
        self.ca_file = ca_file

        def client(read_timeout: float, read_retries: int, connect_retries: int) -> Minio:
            # Ride out a server that restarts (refused connections, see CONNECT_RETRIES) or answers
            # 5xx for a few seconds: a restarting SeaweedFS or a MinIO node rejoining serves errors
            # until its volumes are back (0.5 + 1 + 2 + 4 s). A TLS failure is tried once more only.
            retries = urllib3.Retry(
                total=connect_retries + 4,
                connect=connect_retries,
                read=read_retries,
                status=4,
                other=1,
                backoff_factor=0.5,
                backoff_max=BACKOFF_MAX,
                status_forcelist=[500, 502, 503],
            )
            http = urllib3.PoolManager(
                timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, read=read_timeout),
                retries=retries,
                maxsize=16,
                cert_reqs="CERT_REQUIRED",
                ca_certs=str(ca_file) if secure and ca_file else None,
            )
            return Minio(
                endpoint,
                access_key=access_key,
                secret_key=secret_key,
                secure=secure,
                region=region,
                http_client=http,
            )

        self.client = client(READ_TIMEOUT, 2, CONNECT_RETRIES)
        self._gone = False  # the last request found the server gone (see _answering)
        self._probe = client(PROBE_READ_TIMEOUT, 0, 1)

    @classmethod
    def from_settings(cls, settings: Settings) -> ObjectStore:
        return cls(
            settings.s3_endpoint,
            settings.s3_access_key.get_secret_value(),
            settings.s3_secret_key.get_secret_value(),
            secure=settings.s3_secure,
            region=settings.s3_region,
            ca_file=settings.s3_ca_file,
        )

    @property
    def url(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.endpoint}"

    def ping(self) -> None:
        """Raise :class:`ObjectStoreError` with a one-line reason unless S3 answers and accepts us."""
        try:
            self._probe.list_buckets()
        except S3Error as exc:
            if exc.code in _CREDENTIAL_ERRORS:
                raise ObjectStoreError(
                    f"S3 at {self.url} rejected the credentials ({exc.code}): check "
                    "CITY_S3_ACCESS_KEY and CITY_S3_SECRET_KEY."
                ) from exc
            raise ObjectStoreError(f"S3 at {self.url} answered with an error: {exc.code}") from exc
        except InvalidResponseError as exc:  # e.g. plain HTTP to an HTTPS port
            answer = " ".join(str(exc).split())[:200]
            raise ObjectStoreError(
                f"S3 at {self.url} answered with something that is not S3 ({answer}): check "
                "CITY_S3_SECURE and CITY_S3_ENDPOINT."
            ) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self.unreachable(exc) from exc

    def unreachable(self, exc: BaseException) -> ObjectStoreError:
        """The one-line reason for a connection failure ``exc``: a TLS failure says so (and what to
        set), anything else is a server that does not answer."""
        tls = _tls_failure(exc)
        if isinstance(tls, ssl.SSLCertVerificationError):
            certificate = f"certificate failure: S3 at {self.url} presented a certificate that"
            if self.ca_file:
                return ObjectStoreTLSError(
                    f"{certificate} does not verify against CITY_S3_CA_FILE={self.ca_file} "
                    f"({tls.verify_message})."
                )
            return ObjectStoreTLSError(
                f"{certificate} no CA of this machine trusts ({tls.verify_message}): set CITY_S3_CA_FILE "
                "to the city's CA bundle (PEM)."
            )
        if tls is not None:
            return ObjectStoreTLSError(
                f"TLS with S3 at {self.url} failed ({tls.reason or tls}): does that port serve HTTPS? "
                "Check CITY_S3_SECURE and CITY_S3_ENDPOINT."
            )
        if _cause(exc, urllib3.exceptions.ProtocolError) is not None:
            return ObjectStoreError(
                f"S3 at {self.url} dropped the connection in the middle of a request: is it restarting?"
            )
        if _cause(exc, urllib3.exceptions.ReadTimeoutError) is not None:
            return ObjectStoreError(
                f"S3 at {self.url} accepted the connection but did not answer in time: is CITY_S3_ENDPOINT "
                "an S3 server, and is it overloaded?"
            )
        return ObjectStoreError(
            f"S3 at {self.url} does not answer: start it with `city storage up` or set CITY_S3_ENDPOINT."
        )

    @contextmanager
    def _answering(self) -> Iterator[None]:
        """Requests inside, whose connection failures (after the retries) become one-line
        :class:`ObjectStoreError`s: callers handle one kind of storage error, never urllib3's.

        Once a request has failed so, the next ones ping first (one quick try) until S3 answers
        again: a thread pool of a thousand queued writes fails in one retry period, not a thousand.
        """
        if self._gone:
            self.ping()
            self._gone = False
        try:
            yield
        except _TRANSIENT as exc:
            self._gone = True
            raise self.unreachable(exc) from exc

    def ensure_buckets(self, names: Iterable[str]) -> list[str]:
        """Create missing buckets; return the ones created (idempotent)."""
        with self._answering():
            return self._ensure_buckets(names)

    def _ensure_buckets(self, names: Iterable[str]) -> list[str]:
        created = []
        for name in names:
            if not self.client.bucket_exists(name):
                try:
                    self.client.make_bucket(name)
                    created.append(name)
                except S3Error as exc:  # another process won the race
                    if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                        raise
        return created

    def put_bytes(
        self, bucket: str, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        with self._answering():
            result = self.client.put_object(
                bucket, key, io.BytesIO(data), len(data), content_type=content_type
            )
        return ObjectInfo(bucket, key, (result.etag or "").strip('"'), len(data))

    def put_file(
        self, bucket: str, key: str, path: Path, content_type: str = "application/octet-stream"
    ) -> ObjectInfo:
        """Stream a local file to an object (a city's day of bronze need not be held in memory)."""
        result = self.client.fput_object(bucket, key, str(path), content_type=content_type)
        return ObjectInfo(bucket, key, (result.etag or "").strip('"'), path.stat().st_size)

    def put_parquet(self, bucket: str, key: str, frame: pl.DataFrame) -> ParquetRecord:
        """Write ``frame`` as the platform's parquet, then its record beside it (after the data, so a
        write cut short leaves a file without a record, which ``city verify`` reports)."""
        data = parquet_bytes(frame)
        info = self.put_bytes(bucket, key, data, PARQUET_CONTENT_TYPE)
        return self._record(ParquetRecord(info, frame.height, hashlib.sha256(data).hexdigest()))

    def put_parquet_file(self, bucket: str, key: str, path: Path) -> ParquetRecord:
        """:meth:`put_parquet` for a parquet file written locally (streamed, never held in memory)."""
        digest = hashlib.sha256()
        with path.open("rb") as file:
            for block in iter(lambda: file.read(1 << 20), b""):
                digest.update(block)
        rows = pq.ParquetFile(path).metadata.num_rows
        info = self.put_file(bucket, key, path, PARQUET_CONTENT_TYPE)
        return self._record(ParquetRecord(info, rows, digest.hexdigest()))

    def parquet_record(self, bucket: str, key: str) -> ParquetRecord | None:
        """The record written beside the parquet object ``key``, or None if it has none."""
        record_key = parquet_record_key(key)
        if self.stat(bucket, record_key) is None:
            return None
        document = json.loads(self.get_bytes(bucket, record_key))
        info = ObjectInfo(bucket, key, "", int(document["bytes"]))
        return ParquetRecord(info, int(document["rows"]), str(document["sha256"]))

    def _record(self, record: ParquetRecord) -> ParquetRecord:
        document = json.dumps(record.metadata(), indent=1).encode()
        self.put_bytes(record.info.bucket, parquet_record_key(record.info.key), document, "application/json")
        return record

    def get_bytes(self, bucket: str, key: str) -> bytes:
        """The object's bytes; a GET whose answer breaks off is tried again (:data:`GET_ATTEMPTS`)."""
        return self._get(bucket, key, {}, None)

    def get_pinned(self, obj: ObjectInfo) -> bytes:
        """``obj``'s bytes as listed: its version (``version_id``) where the bucket keeps versions,
        else only while its etag is still the listed one (``If-Match``). Raises
        :class:`ObjectChanged` when the object has changed since (a listing is a promise of content)."""
        headers = {} if obj.version_id else {"If-Match": f'"{obj.etag}"'}
        try:
            return self._get(obj.bucket, obj.key, headers, obj.version_id)
        except S3Error as exc:
            if exc.code in {"PreconditionFailed", "NoSuchKey", "NoSuchVersion"}:
                raise ObjectChanged(obj, exc.code) from exc
            raise

    def _get(self, bucket: str, key: str, headers: dict[str, str], version_id: str | None) -> bytes:
        def get() -> bytes:
            response = self.client.get_object(bucket, key, request_headers=headers, version_id=version_id)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

        with self._answering():
            return Retrying(
                stop=stop_after_attempt(GET_ATTEMPTS),
                wait=wait_exponential(multiplier=0.5, max=BACKOFF_MAX),
                retry=retry_if_exception_type(urllib3.exceptions.ProtocolError),
                reraise=True,
            )(get)

    def get_file(self, bucket: str, key: str, path: Path) -> None:
        """Stream an object to a local file (model weights run to hundreds of MB)."""
        with self._answering():
            self.client.fget_object(bucket, key, str(path))

    def get_many(self, objects: Iterable[ObjectInfo], workers: int = 8) -> list[bytes]:
        """Fetch several objects concurrently, in the order given (network-bound, so threads)."""
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda o: self.get_bytes(o.bucket, o.key), objects))

    def get_many_pinned(self, objects: Iterable[ObjectInfo], workers: int = 8) -> list[bytes | ObjectChanged]:
        """:meth:`get_pinned` of several objects concurrently, in the order given; an object that
        changed since it was listed comes back as its :class:`ObjectChanged`, the others' bytes."""

        def get(obj: ObjectInfo) -> bytes | ObjectChanged:
            try:
                return self.get_pinned(obj)
            except ObjectChanged as changed:
                return changed

        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(get, objects))

    def stat(self, bucket: str, key: str) -> ObjectInfo | None:
        try:
            with self._answering():
                st = self.client.stat_object(bucket, key)
        except S3Error as exc:
            if exc.code in {"NoSuchKey", "NoSuchBucket", "NoSuchObject"}:
                return None
            raise
        return ObjectInfo(bucket, key, (st.etag or "").strip('"'), st.size or 0, st.last_modified)

    def list_objects(
        self,
        bucket: str,
        prefix: str = "",
        *,
        versions: bool = False,
        start_after: str | None = None,
        recursive: bool = True,
    ) -> Iterator[ObjectInfo]:
        """Every object under ``prefix`` in key order (only keys after ``start_after``; without
        ``recursive``, only those right in the ``prefix/`` folder). With ``versions``, every version
        of every key instead, noncurrent ones and delete markers included: on a versioned bucket a
        plain delete only hides an object, and erasing it means deleting each of these."""
        listing = self.client.list_objects(
            bucket, prefix=prefix, recursive=recursive, include_version=versions, start_after=start_after
        )
        with self._answering():  # the listing pages lazily: each page's request may fail
            for obj in listing:
                if obj.is_dir:
                    continue
                yield ObjectInfo(
                    bucket,
                    obj.object_name or "",
                    (obj.etag or "").strip('"'),
                    obj.size or 0,
                    obj.last_modified,
                    obj.version_id if versions else None,
                )

    def list_prefixes(self, bucket: str, prefix: str = "") -> list[str]:
        """The "folders" right under ``prefix`` (``prefix`` ends in ``/``), each ending in ``/``."""
        return [o.object_name or "" for o in self.client.list_objects(bucket, prefix=prefix) if o.is_dir]

    def delete_keys(self, bucket: str, keys: Iterable[str]) -> list[str]:
        """Delete these keys (batched requests); return the ones S3 refused, so a caller can record
        exactly what went."""
        errors = self.client.remove_objects(bucket, (DeleteObject(k) for k in keys))
        with self._answering():
            return [error.name or f"<{error.code}>" for error in errors]  # a keyless error still counts

    def erase_versions(self, bucket: str, objects: Iterable[ObjectInfo]) -> list[str]:
        """Delete exactly these versions (from ``list_objects(versions=True)``), which is how data
        leaves a versioned bucket for good; return the keys S3 refused."""
        targets = (DeleteObject(o.key, o.version_id) for o in objects)
        errors = self.client.remove_objects(bucket, targets)
        with self._answering():
            return [error.name or f"<{error.code}>" for error in errors]

    def delete_prefix(self, bucket: str, prefix: str) -> int:
        """Delete everything under ``prefix``; return how many objects went."""
        keys = [o.key for o in self.list_objects(bucket, prefix)]
        if failed := self.delete_keys(bucket, keys):
            raise ObjectStoreError(f"could not delete {len(failed)} objects under s3://{bucket}/{prefix}")
        return len(keys)


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The ``ssl`` error behind a connection failure, if any: urllib3 keeps it as the ``reason`` of
    a MaxRetryError, wrapped in its own SSLError whose first argument is the ``ssl`` one."""
    return _cause(exc, ssl.SSLError)


def _cause(exc: BaseException, kind: type[CauseT]) -> CauseT | None:
    """The first ``kind`` in ``exc`` or what it wraps (reason, cause, context, arguments)."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        pending += [getattr(current, "reason", None), current.__cause__, current.__context__, *current.args]
    return None


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    """The platform's one parquet encoding (zstd, with statistics) for every object it writes."""
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd", statistics=True)
    return buffer.getvalue()


def read_parquet(store: ObjectStore, bucket: str, key: str) -> pl.DataFrame:
    return pl.read_parquet(io.BytesIO(store.get_bytes(bucket, key)))

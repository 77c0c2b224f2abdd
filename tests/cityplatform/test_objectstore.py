"""The object-store layer against the real S3 server: bytes, listing, etags, deletes."""

from __future__ import annotations

import pytest

from cityplatform.embedded_s3 import EmbeddedS3
from cityplatform.objectstore import LANDING, ObjectStore, ObjectStoreTLSError, parse_s3_uri

pytestmark = pytest.mark.integration


def test_put_get_stat_and_list(store: ObjectStore) -> None:
    put = store.put_bytes(LANDING, "tests/objectstore/a.txt", b"alpha")
    store.put_bytes(LANDING, "tests/objectstore/sub/b.txt", b"beta")
    assert store.get_bytes(LANDING, "tests/objectstore/a.txt") == b"alpha"
    assert store.stat(LANDING, "tests/objectstore/a.txt").etag == put.etag
    assert store.stat(LANDING, "tests/objectstore/missing.txt") is None
    listed = list(store.list_objects(LANDING, "tests/objectstore/"))
    assert [o.key for o in listed] == ["tests/objectstore/a.txt", "tests/objectstore/sub/b.txt"]
    assert all(o.last_modified is not None for o in listed)
    assert store.get_many(listed) == [b"alpha", b"beta"]


def test_same_content_same_etag_changed_content_new_etag(store: ObjectStore) -> None:
    first = store.put_bytes(LANDING, "tests/objectstore/etag.txt", b"v1")
    again = store.put_bytes(LANDING, "tests/objectstore/etag.txt", b"v1")
    changed = store.put_bytes(LANDING, "tests/objectstore/etag.txt", b"v2")
    assert first.etag == again.etag != changed.etag


def test_delete_prefix_removes_only_that_prefix(store: ObjectStore) -> None:
    store.put_bytes(LANDING, "tests/delete/x/1", b"1")
    store.put_bytes(LANDING, "tests/delete/x/2", b"2")
    store.put_bytes(LANDING, "tests/delete/y/1", b"3")
    assert store.delete_prefix(LANDING, "tests/delete/x/") == 2
    assert [o.key for o in store.list_objects(LANDING, "tests/delete/")] == ["tests/delete/y/1"]
    assert store.delete_prefix(LANDING, "tests/delete/nothing/") == 0


def test_parse_s3_uri() -> None:
    assert parse_s3_uri("s3://landing/cctv/cam-01/a.mp4") == ("landing", "cctv/cam-01/a.mp4")
    with pytest.raises(ValueError, match="not an s3://bucket/key URI: 'landing/a'"):
        parse_s3_uri("landing/a")


def test_tls_to_a_plain_http_port_says_so(s3_server: EmbeddedS3) -> None:
    secure = ObjectStore(s3_server.endpoint, s3_server.access_key, s3_server.secret_key, secure=True)
    with pytest.raises(ObjectStoreTLSError, match=r"^TLS with S3 at https://.*does that port serve HTTPS\?"):
        secure.ping()

"""Transports: the S3 archive and local file by default, HTTP (Marquez) added by OPENLINEAGE_URL.

Marquez cannot run here, so a small local receiver stands in for it and validates every event it
gets against the spec, answering 400 to an invalid one as Marquez would.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import attr
import pytest
from openlineage.client.event_v2 import OutputDataset, RunState
from openlineage.client.facet_v2 import RunFacet

from cityplatform.layout import parse_lineage_event_key
from cityplatform.objectstore import LINEAGE, ObjectStore
from cityplatform.settings import InsecureProductionConfig, Settings, SettingsError, load_settings
from governance.lineage.client import lineage_client
from governance.lineage.events import JobRun, LineageEmitter
from governance.lineage.history import archived_events, file_events
from tests.lineage_spec import Receiver, event_errors, lineage_receiver

pytestmark = pytest.mark.integration


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A lineage endpoint on a free port that validates what it receives (400 when invalid)."""
    with lineage_receiver() as state:
        yield state


@pytest.fixture
def forget_url_aliases(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client copies OPENLINEAGE_URL into OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP__*;
    register those so they are removed again after the test."""
    for part in ("TYPE", "URL", "ENDPOINT", "AUTH"):
        name = f"OPENLINEAGE__TRANSPORT__TRANSPORTS__DEFAULT_HTTP__{part}"
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def job_run(name: str = "test/transport") -> JobRun:
    return JobRun(name, str(uuid.uuid4()))


def output() -> OutputDataset:
    return OutputDataset("s3://test-only", "transport/output")


def archived_keys(store: ObjectStore, run_id: str) -> list[str]:
    return sorted(o.key for o in store.list_objects(LINEAGE, "events/") if run_id in o.key)


def test_default_transports_archive_each_event_as_its_own_object_and_append_the_local_file(
    city_settings: Settings, store: ObjectStore
) -> None:
    emitter = LineageEmitter(lineage_client(city_settings))
    run = job_run("test/archive/readings")
    emitter.emit(RunState.START, run, outputs=[output()])
    emitter.emit(RunState.COMPLETE, run, outputs=[output()])

    keys = archived_keys(store, run.run_id)
    parsed = [parse_lineage_event_key(k) for k in keys]
    assert [(p.job_namespace, p.job_name, p.event_type) for p in parsed if p] == [
        ("smart-city", "test/archive/readings", "START"),
        ("smart-city", "test/archive/readings", "COMPLETE"),
    ]
    for key in keys:
        assert event_errors(json.loads(store.get_bytes(LINEAGE, key))) == []
    lines = [json.loads(line) for p in city_settings.lineage_dir.glob("events-*.jsonl") for line in p.open()]
    assert [e["eventType"] for e in lines if e["run"]["runId"] == run.run_id] == ["START", "COMPLETE"]
    assert all(event_errors(e) == [] for e in lines)


def test_readers_pick_each_jobs_newest_event_and_newest_complete(
    city_settings: Settings, store: ObjectStore
) -> None:
    emitter = LineageEmitter(lineage_client(city_settings), namespace=f"reader-{uuid.uuid4()}")
    first, second = job_run("test/reader"), job_run("test/reader")
    for state in (RunState.START, RunState.COMPLETE):
        emitter.emit(state, first, outputs=[output()])
    for state in (RunState.START, RunState.FAIL):
        emitter.emit(state, second, outputs=[output()])
    for events in (archived_events(store), file_events(city_settings.lineage_dir)):
        mine = [e for e in events if e["job"]["namespace"] == emitter.namespace]
        assert sorted((e["run"]["runId"], e["eventType"]) for e in mine) == sorted(
            [(first.run_id, "COMPLETE"), (second.run_id, "FAIL")]
        )


def test_openlineage_url_adds_http_and_the_receiver_accepts_every_event(
    city_settings: Settings,
    store: ObjectStore,
    receiver: Receiver,
    forget_url_aliases: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", receiver.url)
    client = lineage_client(city_settings)
    assert sorted(t.kind for t in client.transport.transports) == ["city_object_store", "file", "http"]
    emitter = LineageEmitter(client)
    run = job_run()
    emitter.emit(RunState.START, run, outputs=[output()])
    emitter.emit(RunState.COMPLETE, run, outputs=[output()])

    assert [(r.path, r.event["eventType"], r.errors) for r in receiver.received] == [
        ("/api/v1/lineage", "START", []),
        ("/api/v1/lineage", "COMPLETE", []),
    ]
    assert len(archived_keys(store, run.run_id)) == 2  # the archive still gets every event


@attr.define
class _UnknownFacet(RunFacet):
    @staticmethod
    def _get_schema() -> str:
        return "https://example.org/spec/UnknownFacet.json#/$defs/UnknownFacet"


def test_the_receiver_refuses_an_invalid_event_and_the_archive_still_keeps_it(
    city_settings: Settings,
    store: ObjectStore,
    receiver: Receiver,
    forget_url_aliases: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", receiver.url)
    emitter = LineageEmitter(lineage_client(city_settings))
    run = job_run()
    emitter.emit(RunState.START, run, extra_run_facets={"unknown": _UnknownFacet()})
    assert len(receiver.received) == 1
    assert "no schema in the vendored spec" in receiver.received[0].errors[0]
    assert len(archived_keys(store, run.run_id)) == 1


def test_a_single_transport_override_is_refused_with_the_fix(
    city_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "http")
    with pytest.raises(SettingsError, match="OPENLINEAGE_URL"):
        lineage_client(city_settings)


def test_openlineage_disabled_emits_nothing(
    city_settings: Settings, store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENLINEAGE_DISABLED", "true")
    run = job_run()
    LineageEmitter(lineage_client(city_settings)).emit(RunState.START, run)
    assert archived_keys(store, run.run_id) == []


def production(settings: Settings, **overrides: object) -> Settings:
    """``settings`` in production mode (TLS, a long secret), with ``overrides``."""
    return load_settings(
        mode="production",
        home=settings.home,
        s3_secure=True,
        s3_access_key="platform-prod",
        s3_secret_key="a-production-secret-key",
        **overrides,
    )


def test_production_refuses_lineage_kept_only_in_files(
    city_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENLINEAGE_URL", raising=False)
    with pytest.raises(InsecureProductionConfig, match="lineage kept only in files: set OPENLINEAGE_URL"):
        lineage_client(production(city_settings))


def test_production_refuses_plain_http_to_marquez(
    city_settings: Settings, forget_url_aliases: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", "http://marquez.city.example")
    with pytest.raises(
        InsecureProductionConfig, match=r"OPENLINEAGE_URL=http://marquez.city.example must be https"
    ):
        lineage_client(production(city_settings))


def test_https_to_marquez_verifies_against_the_city_ca(
    city_settings: Settings, forget_url_aliases: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The TLS handshake itself is exercised in tests/production/test_tls.py."""
    ca = tmp_path / "city-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("OPENLINEAGE_URL", "https://marquez.city.example")
    client = lineage_client(production(city_settings, s3_ca_file=ca))
    (http,) = [t for t in client.transport.transports if t.kind == "http"]
    assert http.verify == str(ca)

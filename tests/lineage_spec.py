"""Validate events against the OpenLineage spec's JSON schemas, offline, facets included.

Test code only (it needs the dev dependency ``jsonschema``): the platform emits events, the tests
prove them valid against the schemas copied under ``tests/openlineage_schemas``.

The run-event schema only requires a facet to be a ``BaseFacet``, so each facet is also checked
against the schema its ``_schemaURL`` names (resolved from the vendored spec, never the network),
and its key must be the one that schema defines: a facet we cannot validate is an error.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource

SPEC_DIR = Path(__file__).parent / "openlineage_schemas"
RUN_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


class InvalidLineageEvent(ValueError):
    """An event the spec rejects; the message lists every problem with its JSON path."""


def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or ("T" in value.upper() and bool(datetime.fromisoformat(value)))

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        return not isinstance(value, str) or bool(urlparse(value).scheme)

    return checker


@cache
def _schemas() -> dict[str, dict[str, Any]]:
    files = [SPEC_DIR / "OpenLineage.json", *sorted((SPEC_DIR / "facets").glob("*.json"))]
    documents = [json.loads(path.read_text()) for path in files]
    return {doc["$id"]: doc for doc in documents}


@cache
def _registry() -> Registry:
    return Registry().with_resources((uri, Resource.from_contents(doc)) for uri, doc in _schemas().items())


def _validator(ref: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": ref}, registry=_registry(), format_checker=_format_checker())


def _facets(event: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(path, key, facet) for every facet anywhere in the event."""
    yield from (("run.facets", k, f) for k, f in event.get("run", {}).get("facets", {}).items())
    yield from (("job.facets", k, f) for k, f in event.get("job", {}).get("facets", {}).items())
    for side in ("inputs", "outputs"):
        for i, dataset in enumerate(event.get(side, [])):
            for group in ("facets", "inputFacets", "outputFacets"):
                yield from ((f"{side}[{i}].{group}", k, f) for k, f in dataset.get(group, {}).items())


def _facet_errors(path: str, key: str, facet: dict[str, Any]) -> list[str]:
    url = facet.get("_schemaURL", "")
    document_uri, _, pointer = url.partition("#")
    document = _schemas().get(document_uri)
    if document is None or not pointer:
        return [f"{path}.{key}: no schema in the vendored spec for _schemaURL {url!r}"]
    declared = document.get("properties", {}).get(key, {}).get("$ref")
    if declared != f"#{pointer}":
        return [f"{path}.{key}: {document_uri} defines this facet under another key than {key!r}"]
    return [
        f"{path}.{key}{''.join(f'[{p!r}]' for p in error.absolute_path)}: {error.message}"
        for error in _validator(url).iter_errors(facet)
    ]


def event_errors(event: dict[str, Any]) -> list[str]:
    """Every way a run ``event`` (as JSON) breaks the spec; empty when it is valid."""
    errors = (
        [] if event.get("schemaURL") == RUN_EVENT_SCHEMA else [f"event: schemaURL is not {RUN_EVENT_SCHEMA}"]
    )
    errors += [
        f"event{''.join(f'[{p!r}]' for p in error.absolute_path)}: {error.message}"
        for error in _validator(RUN_EVENT_SCHEMA).iter_errors(event)
    ]
    for path, key, facet in _facets(event):
        errors += _facet_errors(path, key, facet)
    return errors


def validate_event(event: dict[str, Any]) -> None:
    if errors := event_errors(event):
        raise InvalidLineageEvent("; ".join(errors))


@dataclass
class Received:
    path: str
    event: dict[str, Any]
    errors: list[str]


@dataclass
class Receiver:
    url: str
    received: list[Received] = field(default_factory=list)


@contextmanager
def lineage_receiver(tls: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    """A stand-in for Marquez on a free loopback port (HTTPS with ``tls``) that validates every
    event it receives against the spec and answers 400 to an invalid one."""
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            errors = event_errors(event)
            state.received.append(Received(self.path, event, errors))
            self.send_response(400 if errors else 201)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        thread.join()

"""The OpenLineage client with the platform's transports, extended by the environment.

Always, through the client's ``composite`` transport:
- ``archive``: every event as its own object under ``s3://lineage/events/`` (what ``city lineage`` reads);
- ``local``: the client's file transport, one JSON event per line, ``<CITY_HOME>/lineage/events-<day>.jsonl``.

The environment adds transports the way the client supports: ``OPENLINEAGE_URL`` (with
``OPENLINEAGE_ENDPOINT``, ``OPENLINEAGE_API_KEY``) adds HTTP to Marquez, which is what production sets;
``OPENLINEAGE__TRANSPORT__TRANSPORTS__<NAME>__*`` variables or an ``OPENLINEAGE_CONFIG`` file add any
other transport; ``OPENLINEAGE_DISABLED=true`` turns lineage off. A single-transport setting such as
``OPENLINEAGE__TRANSPORT__TYPE=http`` alone would silently replace nothing (the platform's composite
wins), so it is refused unless ``OPENLINEAGE_URL`` says where HTTP goes.

HTTP verifies Marquez's certificate against ``CITY_S3_CA_FILE`` when that is set (the city's CA
signs both). ``CITY_MODE=production`` refuses lineage kept only in files: it needs ``OPENLINEAGE_URL``,
and over HTTPS.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from openlineage.client import OpenLineageClient

from cityplatform.settings import InsecureProductionConfig, Settings, SettingsError
from governance.lineage.transport import ObjectStoreTransport

OBJECT_STORE_TRANSPORT = f"{ObjectStoreTransport.__module__}.{ObjectStoreTransport.__qualname__}"


def _refuse_single_transport_override() -> None:
    kind = os.environ.get("OPENLINEAGE__TRANSPORT__TYPE", "composite").lower()
    if kind != "composite" and not os.environ.get("OPENLINEAGE_URL"):
        raise SettingsError(
            f"OPENLINEAGE__TRANSPORT__TYPE={kind} would replace the lineage archive: set OPENLINEAGE_URL "
            "for HTTP to Marquez, or add transports as OPENLINEAGE__TRANSPORT__TRANSPORTS__<NAME>__TYPE."
        )


def _refuse_lineage_without_marquez(url: str) -> None:
    """Production: events must reach Marquez, and not in the clear."""
    if not url:
        raise InsecureProductionConfig(
            "CITY_MODE=production refuses lineage kept only in files: set OPENLINEAGE_URL to Marquez "
            "(https://...)."
        )
    if not url.lower().startswith("https://"):
        raise InsecureProductionConfig(
            f"CITY_MODE=production refuses plain HTTP to Marquez: OPENLINEAGE_URL={url} must be https://."
        )


def client_config(settings: Settings) -> dict[str, Any]:
    """The platform's part of the client configuration (the environment's part is merged by the client)."""
    _refuse_single_transport_override()
    url = os.environ.get("OPENLINEAGE_URL", "")
    if settings.mode == "production":
        _refuse_lineage_without_marquez(url)
    settings.lineage_dir.mkdir(parents=True, exist_ok=True)
    day = datetime.now(UTC).date().isoformat()
    transports: dict[str, Any] = {
        "archive": {"type": OBJECT_STORE_TRANSPORT},
        "local": {
            "type": "file",
            "log_file_path": str(settings.lineage_dir / f"events-{day}.jsonl"),
            "append": True,
        },
    }
    if url:
        # Merged by the client into the HTTP transport it makes of OPENLINEAGE_URL. Few retries: the
        # client's default (5, backing off) holds every event of a run for seconds while Marquez is
        # down or untrusted, and the archive and the local file keep the event anyway.
        http: dict[str, Any] = {"timeout": 5.0, "retry": {"total": 2, "connect": 2, "read": 2}}
        if settings.s3_ca_file:
            http["ssl_context"] = {"caCertPath": str(settings.s3_ca_file)}
        transports[OpenLineageClient.DEFAULT_URL_TRANSPORT_NAME] = http
    return {
        "transport": {
            "type": "composite",
            # Marquez being down must not fail a data run: the archive and the local file still hold it.
            "continue_on_failure": True,
            "transports": transports,
        }
    }


def lineage_client(settings: Settings) -> OpenLineageClient:
    return OpenLineageClient(config=client_config(settings))

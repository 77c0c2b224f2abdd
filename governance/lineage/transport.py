"""An openlineage-python transport that archives every run event as its own object in S3.

One object per event (``s3://lineage/events/date=<UTC day>/<job namespace>/<job>/<time>-<run>-<type>.json``)
means concurrent steps never append to or rewrite a shared object, and readers can choose which
events to fetch from the key alone. The archive is the platform's own record: ``city lineage``
reads it, whatever else (Marquez) the events also go to.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attr
from openlineage.client.client import Event
from openlineage.client.event_v2 import RunEvent
from openlineage.client.serde import Serde
from openlineage.client.transport.transport import Config, Transport

from cityplatform.layout import lineage_event_key
from cityplatform.objectstore import LINEAGE, ObjectStore
from cityplatform.settings import load_settings


@attr.define
class ObjectStoreConfig(Config):
    bucket: str = LINEAGE

    @classmethod
    def from_dict(cls, params: dict[str, Any]) -> ObjectStoreConfig:
        return cls(bucket=params.get("bucket", LINEAGE))


class ObjectStoreTransport(Transport):
    """Writes each run event to the platform's object store (credentials from ``CITY_*`` settings)."""

    kind = "city_object_store"
    config_class = ObjectStoreConfig

    def __init__(self, config: ObjectStoreConfig) -> None:
        self.config = config
        self.store = ObjectStore.from_settings(load_settings())

    def emit(self, event: Event) -> None:
        if not isinstance(event, RunEvent) or event.eventType is None:
            raise TypeError(f"the lineage archive stores run events only, not {type(event).__name__}")
        key = lineage_event_key(
            datetime.fromisoformat(event.eventTime),
            event.job.namespace,
            event.job.name,
            event.run.runId,
            event.eventType.value,
        )
        self.store.put_bytes(
            self.config.bucket, key, Serde.to_json(event).encode(), content_type="application/json"
        )

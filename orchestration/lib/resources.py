"""Dagster resources: thin adapters from the platform's settings to what assets need."""

from __future__ import annotations

import dagster as dg

from cityplatform.objectstore import ObjectStore
from cityplatform.settings import Settings, load_settings


class CityStorage(dg.ConfigurableResource):
    """The platform's S3 object store, configured from ``CITY_*`` settings (env, .env, secret files)."""

    def settings(self) -> Settings:
        return load_settings()

    def store(self) -> ObjectStore:
        return ObjectStore.from_settings(self.settings())

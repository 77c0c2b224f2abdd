"""Dagster metadata as plain Python values: the one place that unwraps a ``MetadataValue``.

What an asset records is wrapped on its way into Dagster (an int becomes an ``IntMetadataValue``, a
path a ``PathMetadataValue``), and it comes back wrapped from the event log or from a spec, while a
result still in an asset's hands may hold either; readers want the value in both cases.
"""

from __future__ import annotations

from typing import Any

import dagster as dg


def plain(value: Any) -> Any:
    """The value a metadata entry holds (a value that is not wrapped, ``None`` included, as it is)."""
    return value.value if isinstance(value, dg.MetadataValue) else value

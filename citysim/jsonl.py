"""Readings as landing lines: one compact JSON object per line, keys in contract order."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from citysim.iot import KindReadings

# One encoder for every line: json.dumps would build a new one per call with these separators.
_ENCODER = json.JSONEncoder(separators=(",", ":"))


def encode(record: dict[str, Any]) -> str:
    return _ENCODER.encode(record)


def reading_record(readings: KindReadings, observed_at: str, slot: int, sensor: int) -> dict[str, Any]:
    """The reading of one sensor in one slot, as the dict its line encodes."""
    record: dict[str, Any] = {
        "sensor_id": readings.sensor_ids[sensor],
        "kind": readings.kind,
        "observed_at": observed_at,
    }
    for name, values in readings.values.items():
        record[name] = values[slot, sensor].item()
    return record


def render_lines(readings: KindReadings, observed_at: Sequence[str]) -> list[list[str]]:
    """``lines[slot][sensor]``: every clean line of the day (the bulk path, so no per-line indexing)."""
    names = list(readings.values)
    columns = [readings.values[name].tolist() for name in names]
    lines = []
    for slot, stamp in enumerate(observed_at):
        row = []
        measured_row = zip(*(column[slot] for column in columns), strict=True)
        for sensor_id, measured in zip(readings.sensor_ids, measured_row, strict=True):
            record: dict[str, Any] = {"sensor_id": sensor_id, "kind": readings.kind, "observed_at": stamp}
            record.update(zip(names, measured, strict=True))
            row.append(_ENCODER.encode(record))
        lines.append(row)
    return lines

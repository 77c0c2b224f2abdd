"""Ground truth of a simulated day: what happened in the city and what was broken on purpose.

Ingestion tests compare their quarantine with :attr:`DayTruth.faults` line by line and their
bronze row counts with :attr:`DayTruth.expected_accepted`, so both are exact, not estimates.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import Any

from cityplatform.sensor_kinds import QuarantineReason


class EventKind(StrEnum):
    POLLUTION_EPISODE = "pollution_episode"
    CONGESTION = "congestion"
    STORM = "storm"


ALL_EVENTS: frozenset[EventKind] = frozenset(EventKind)


@dataclass(frozen=True)
class MeasurePeak:
    """The most extreme clean reading of one measure during an event (minimum for a speed)."""

    sensor_id: str
    at: datetime
    value: float


@dataclass(frozen=True)
class SimEvent:
    """One scripted event; ``sensor_ids`` are where it is strongest, ``start``..``end`` its window."""

    kind: EventKind
    district_id: str
    segment_id: str | None
    sensor_ids: tuple[str, ...]
    start: datetime
    peak: datetime
    end: datetime
    peaks: dict[str, MeasurePeak]


@dataclass(frozen=True)
class LineRef:
    key: str
    line: int


@dataclass(frozen=True)
class InjectedFault:
    """One broken landing line (``line`` is 1-based) and the one reason it must be quarantined for.

    ``field`` names the dropped or spoiled field (missing_field, wrong_type, out_of_range);
    ``duplicate_of`` points at the valid original of a duplicate.
    """

    key: str
    line: int
    reason: QuarantineReason
    field: str | None = None
    duplicate_of: LineRef | None = None


@dataclass(frozen=True)
class DayTruth:
    day: date
    seed: int
    fault_rate: float
    events: tuple[SimEvent, ...]
    faults: tuple[InjectedFault, ...]
    lines_written: dict[str, int]
    expected_accepted: dict[str, int]

    def event(self, kind: EventKind) -> SimEvent:
        return next(e for e in self.events if e.kind == kind)

    def fault_counts(self) -> Counter[QuarantineReason]:
        return Counter(f.reason for f in self.faults)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable(dataclasses.asdict(self))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value

"""Deliberately broken landing lines, one quarantine reason per broken line and no other flaw.

A fault either spoils a reading in place (malformed_json, missing_field, wrong_type,
out_of_range), moves it to a file more than an hour later (late_arrival), or adds a line
(duplicate, unknown_sensor). Line numbers are only known once every file is laid out, so faults
hold a :class:`_Mark` that the layout fills in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from cityplatform.sensor_kinds import MAX_LATENESS, SENSOR_KINDS, Measure, QuarantineReason, SensorKind
from citysim.city import MAX_SENSORS_PER_KIND
from citysim.clock import SLOT, SLOTS_PER_DAY
from citysim.iot import DECIMALS, KindReadings
from citysim.jsonl import encode, reading_record

# A reading is late when its file's slot starts more than this after it was observed.
LATE_AFTER = MAX_LATENESS
_LATE_DELAY_SLOTS = (LATE_AFTER // SLOT + 1, 36)  # 65 minutes to 3 hours late
_DUPLICATE_DELAY_SLOTS = (0, LATE_AFTER // SLOT - 1)  # same file up to 55 minutes later: never late
_WRONG_TYPE_VALUES: tuple[object, ...] = ("n/a", "high", "ERR", "--", True, False)
_SENTINELS = (-999, 9999)  # what loggers write when a probe fails
_GARBAGE = (
    "<html><body><h1>502 Bad Gateway</h1></body></html>",
    "+++ATH0 NO CARRIER",
    "#### gateway reboot ####",
)
_UNKNOWN_IDS = (MAX_SENSORS_PER_KIND + 1, 9999)  # fit the id pattern, never registered
MAX_FAULT_RATE = 0.5


@dataclass
class _Mark:
    """Where a line ends up: its slot now, its 1-based line number once its file is laid out."""

    slot: int
    position: float
    line: int = 0


@dataclass(frozen=True)
class KindFault:
    slot: int
    line: int
    reason: QuarantineReason
    field: str | None
    duplicate_of: tuple[int, int] | None  # (slot, line) of the valid original


@dataclass(frozen=True)
class FaultedKind:
    """One kind's day as delivered: ``files[slot]`` are its lines; ``faults`` say which are broken."""

    files: list[list[str]]
    faults: list[KindFault]


@dataclass
class _Fault:
    mark: _Mark
    reason: QuarantineReason
    field: str | None = None
    original: _Mark | None = None


@dataclass
class _Injector:
    """Bookkeeping for one kind's day: which readings are spoiled, moved or copied, and where to."""

    readings: KindReadings
    lines: list[list[str]]
    observed_at: list[str]
    rng: np.random.Generator
    taken: np.ndarray = field(init=False)
    replaced: dict[tuple[int, int], str] = field(default_factory=dict)
    removed: set[tuple[int, int]] = field(default_factory=set)
    extras: dict[int, list[tuple[_Mark, str]]] = field(default_factory=dict)
    natural_marks: dict[tuple[int, int], _Mark] = field(default_factory=dict)
    faults: list[_Fault] = field(default_factory=list)
    unknown_used: set[tuple[str, int]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.taken = np.zeros((SLOTS_PER_DAY, len(self.readings.sensor_ids)), dtype=bool)

    @property
    def spec(self) -> SensorKind:
        return SENSOR_KINDS[self.readings.kind]

    def take(self, last_slot: int = SLOTS_PER_DAY - 1) -> tuple[int, int]:
        """A reading no other fault has touched, observed no later than ``last_slot``."""
        sensors = len(self.readings.sensor_ids)
        while True:
            cell = int(self.rng.integers(last_slot + 1)), int(self.rng.integers(sensors))
            if not self.taken[cell]:
                self.taken[cell] = True
                return cell

    def natural_mark(self, cell: tuple[int, int]) -> _Mark:
        mark = self.natural_marks[cell] = _Mark(cell[0], float(cell[1]))
        return mark

    def spoil(self, reason: QuarantineReason) -> None:
        cell = self.take()
        record = reading_record(self.readings, self.observed_at[cell[0]], *cell)
        text, spoiled = _SPOILERS[reason](self, record, cell)
        self.replaced[cell] = text
        self.faults.append(_Fault(self.natural_mark(cell), reason, spoiled))

    def insert(self, slot: int, text: str, after: float = -1.0) -> _Mark:
        """Add ``text`` at a random place in ``slot``'s file, after natural line ``after`` if given."""
        mark = _Mark(slot, float(self.rng.uniform(after + 0.25, len(self.readings.sensor_ids) - 0.25)))
        self.extras.setdefault(slot, []).append((mark, text))
        return mark

    def late_arrival(self) -> None:
        low, high = _LATE_DELAY_SLOTS
        cell = self.take(last_slot=SLOTS_PER_DAY - 1 - low)
        delay = int(self.rng.integers(low, min(high, SLOTS_PER_DAY - 1 - cell[0]) + 1))
        self.removed.add(cell)
        delivered = self.insert(cell[0] + delay, self.lines[cell[0]][cell[1]])
        self.faults.append(_Fault(delivered, QuarantineReason.LATE_ARRIVAL))

    def duplicate(self) -> None:
        low, high = _DUPLICATE_DELAY_SLOTS
        cell = self.take()
        slot = cell[0] + int(self.rng.integers(low, min(high, SLOTS_PER_DAY - 1 - cell[0]) + 1))
        after = float(cell[1]) if slot == cell[0] else -1.0
        copy = self.insert(slot, self.lines[cell[0]][cell[1]], after)
        self.faults.append(_Fault(copy, QuarantineReason.DUPLICATE, original=self.natural_mark(cell)))

    def unknown_sensor(self) -> None:
        """A plausible reading from a sensor id that fits the pattern but is not registered."""
        while True:
            sensor_id = f"{self.spec.id_prefix}-{int(self.rng.integers(*_UNKNOWN_IDS, endpoint=True)):04d}"
            slot = int(self.rng.integers(SLOTS_PER_DAY))
            if (sensor_id, slot) not in self.unknown_used:
                break
        self.unknown_used.add((sensor_id, slot))
        donor = int(self.rng.integers(len(self.readings.sensor_ids)))
        record = reading_record(self.readings, self.observed_at[slot], slot, donor)
        record["sensor_id"] = sensor_id
        self.faults.append(_Fault(self.insert(slot, encode(record)), QuarantineReason.UNKNOWN_SENSOR))

    def layout(self) -> list[list[str]]:
        """Final files: natural lines in sensor order with extras slotted in; fills every mark's line."""
        touched = {slot for slot, _ in self.removed} | {slot for slot, _ in self.natural_marks}
        files = []
        for slot, natural in enumerate(self.lines):
            extras = self.extras.get(slot, [])
            if not extras and slot not in touched:
                files.append(natural)
                continue
            placed: list[tuple[float, str, _Mark | None]] = [
                (float(s), self.replaced.get((slot, s), text), self.natural_marks.get((slot, s)))
                for s, text in enumerate(natural)
                if (slot, s) not in self.removed
            ]
            placed += [(mark.position, text, mark) for mark, text in extras]
            placed.sort(key=lambda item: item[0])
            for line, (_, _, mark) in enumerate(placed, start=1):
                if mark is not None:
                    mark.line = line
            files.append([text for _, text, _ in placed])
        return files


def _malformed(injector: _Injector, record: dict[str, Any], cell: tuple[int, int]) -> tuple[str, None]:
    """Cut off mid-object (a lost packet), the dict printed by Python, or a gateway's own chatter."""
    text = injector.lines[cell[0]][cell[1]]
    choice = int(injector.rng.integers(len(_GARBAGE) + 2))
    if choice == 0:
        return text[: int(injector.rng.integers(10, len(text) - 1))], None
    if choice == 1:
        return repr(record), None
    return _GARBAGE[choice - 2], None


def _missing(injector: _Injector, record: dict[str, Any], cell: tuple[int, int]) -> tuple[str, str]:
    dropped = str(injector.rng.choice(injector.spec.fields))
    del record[dropped]
    return encode(record), dropped


def _wrong_type(injector: _Injector, record: dict[str, Any], cell: tuple[int, int]) -> tuple[str, str]:
    """A measure as text, a boolean or a list: never a numeric string, which a parser may fairly accept."""
    measure = str(injector.rng.choice([m.name for m in injector.spec.measures]))
    choice = int(injector.rng.integers(len(_WRONG_TYPE_VALUES) + 1))
    record[measure] = [record[measure]] if choice == len(_WRONG_TYPE_VALUES) else _WRONG_TYPE_VALUES[choice]
    return encode(record), measure


def _out_of_range(injector: _Injector, record: dict[str, Any], cell: tuple[int, int]) -> tuple[str, str]:
    measure: Measure = injector.spec.measures[int(injector.rng.integers(len(injector.spec.measures)))]
    record[measure.name] = _outside(injector.rng, measure)
    return encode(record), measure.name


def _outside(rng: np.random.Generator, measure: Measure) -> int | float:
    """A logger sentinel, or a value overshooting the range by 5-50% of its span, in the measure's type."""
    if rng.random() < 0.5:
        value: float = float(rng.choice(_SENTINELS))
    else:
        overshoot = (measure.max - measure.min) * rng.uniform(0.05, 0.5)
        value = measure.max + overshoot if rng.random() < 0.5 else measure.min - overshoot
    if measure.dtype == pl.Int64:
        return round(value)
    return round(value, DECIMALS[measure.name]) + 0.0


_SPOILERS = {
    QuarantineReason.MALFORMED_JSON: _malformed,
    QuarantineReason.MISSING_FIELD: _missing,
    QuarantineReason.WRONG_TYPE: _wrong_type,
    QuarantineReason.OUT_OF_RANGE: _out_of_range,
}


def inject_faults(
    readings: KindReadings,
    lines: list[list[str]],
    observed_at: list[str],
    *,
    fault_rate: float,
    rng: np.random.Generator,
) -> FaultedKind:
    """Break ``round(fault_rate x readings)`` lines, the seven reasons taking turns in random order."""
    if not 0 <= fault_rate <= MAX_FAULT_RATE:
        raise ValueError(f"fault_rate must be within [0, {MAX_FAULT_RATE}], got {fault_rate}")
    injector = _Injector(readings, lines, observed_at, rng)
    reasons = list(QuarantineReason)
    count = round(fault_rate * SLOTS_PER_DAY * len(readings.sensor_ids))
    for index in np.resize(rng.permutation(len(reasons)), count):
        reason = reasons[int(index)]
        if reason in _SPOILERS:
            injector.spoil(reason)
        elif reason == QuarantineReason.LATE_ARRIVAL:
            injector.late_arrival()
        elif reason == QuarantineReason.DUPLICATE:
            injector.duplicate()
        else:
            injector.unknown_sensor()
    files = injector.layout()
    return FaultedKind(
        files=files,
        faults=[
            KindFault(
                slot=f.mark.slot,
                line=f.mark.line,
                reason=f.reason,
                field=f.field,
                duplicate_of=None if f.original is None else (f.original.slot, f.original.line),
            )
            for f in injector.faults
        ],
    )

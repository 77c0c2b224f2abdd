"""The city's day: local time in the city's zone (a parameter, from the platform's settings), cut
into 5-minute slots."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

import numpy as np

SLOT = timedelta(minutes=5)
SLOTS_PER_DAY = 288


def slot_starts(day: date, tz: tzinfo) -> tuple[datetime, ...]:
    """The start of every 5-minute slot of ``day`` in the zone ``tz``, by the wall clock.

    Always 288 slots: on a day the clocks change, one hour of them is a local time that does not
    exist (spring) or exists twice (autumn), which ingestion refuses to place; a day of a zone with
    daylight saving needs slots counted in absolute time, which the simulator does not do yet.
    """
    midnight = datetime.combine(day, time(), tz)
    return tuple(midnight + i * SLOT for i in range(SLOTS_PER_DAY))


def slot_hours() -> np.ndarray:
    """Hour of day at the middle of each slot: what diurnal profiles are evaluated at."""
    return (np.arange(SLOTS_PER_DAY) + 0.5) * SLOT.total_seconds() / 3600

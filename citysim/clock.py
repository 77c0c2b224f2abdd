"""The city's day: local time in Asia/Seoul, cut into 5-minute slots."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

CITY_TZ = ZoneInfo("Asia/Seoul")
SLOT = timedelta(minutes=5)
SLOTS_PER_DAY = 288


def slot_starts(day: date) -> tuple[datetime, ...]:
    """The start of every 5-minute slot of ``day``, local time (Korea keeps no daylight saving)."""
    midnight = datetime.combine(day, time(), CITY_TZ)
    return tuple(midnight + i * SLOT for i in range(SLOTS_PER_DAY))


def slot_hours() -> np.ndarray:
    """Hour of day at the middle of each slot: what diurnal profiles are evaluated at."""
    return (np.arange(SLOTS_PER_DAY) + 0.5) * SLOT.total_seconds() / 3600

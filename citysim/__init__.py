"""Synthetic city: a seeded registry of districts, roads and sensors, and days of IoT readings.

Typical use::

    city = build_city(seed=42, sensors=200)
    truth = write_iot_day(store, city, date(2026, 11, 24), tz=settings.zone, seed=42, fault_rate=0.01)

Same seed, date and zone, same bytes; :class:`DayTruth` says which events happened and which lines are broken.
"""

from citysim.city import City, District, RiverGauge, RoadSegment, Sensor, build_city, sensor_counts
from citysim.clock import SLOTS_PER_DAY, slot_starts
from citysim.faults import LATE_AFTER
from citysim.iot import DayReadings, KindReadings, simulate_day
from citysim.landing import IotDay, build_iot_day, registry_objects, write_iot_day
from citysim.truth import ALL_EVENTS, DayTruth, EventKind, InjectedFault, LineRef, MeasurePeak, SimEvent

__all__ = [
    "ALL_EVENTS",
    "LATE_AFTER",
    "SLOTS_PER_DAY",
    "City",
    "DayReadings",
    "DayTruth",
    "District",
    "EventKind",
    "InjectedFault",
    "IotDay",
    "KindReadings",
    "LineRef",
    "MeasurePeak",
    "RiverGauge",
    "RoadSegment",
    "Sensor",
    "SimEvent",
    "build_city",
    "build_iot_day",
    "registry_objects",
    "sensor_counts",
    "simulate_day",
    "slot_starts",
    "write_iot_day",
]

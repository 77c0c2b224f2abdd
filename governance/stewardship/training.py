"""Is a member of staff currently trained for a classification on a given day? Pure functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from governance.registry.ownership import Classification
from governance.registry.registry import Registry

# A course expiring within this window still counts, but the owner must renew: the check warns.
EXPIRY_WARNING = timedelta(days=30)


class CourseState(StrEnum):
    CURRENT = "current"
    EXPIRING = "expiring"  # current, but expires within EXPIRY_WARNING
    EXPIRED = "expired"
    MISSING = "missing"  # never completed (or only after the day asked about)


@dataclass(frozen=True)
class CourseStatus:
    course: str
    state: CourseState
    completed_on: date | None = None
    expires_on: date | None = None

    @property
    def counts(self) -> bool:
        return self.state in (CourseState.CURRENT, CourseState.EXPIRING)


@dataclass(frozen=True)
class Qualification:
    """One person's standing against the courses one classification requires, on one day."""

    staff: str
    classification: Classification
    on: date
    courses: tuple[CourseStatus, ...]

    @property
    def trained(self) -> bool:
        return all(course.counts for course in self.courses)

    @property
    def expiring(self) -> bool:
        return self.trained and any(course.state is CourseState.EXPIRING for course in self.courses)

    @property
    def expires_on(self) -> date | None:
        """The day the qualification lapses: the earliest expiry of the required courses."""
        if not self.trained:
            return None
        return min((c.expires_on for c in self.courses if c.expires_on), default=None)

    @property
    def lapsed(self) -> tuple[CourseStatus, ...]:
        return tuple(course for course in self.courses if not course.counts)


def course_status(registry: Registry, staff_id: str, course: str, on: date) -> CourseStatus:
    """The latest completion of ``course`` on or before ``on`` decides; a renewal replaces the old one."""
    done = [r for r in registry.records_of(staff_id) if r.course == course and r.completed_on <= on]
    if not done:
        return CourseStatus(course, CourseState.MISSING)
    latest = max(done, key=lambda record: record.completed_on)
    if latest.expires_on <= on:
        state = CourseState.EXPIRED
    elif latest.expires_on - on <= EXPIRY_WARNING:
        state = CourseState.EXPIRING
    else:
        state = CourseState.CURRENT
    return CourseStatus(course, state, latest.completed_on, latest.expires_on)


def qualification(
    registry: Registry, staff_id: str, classification: Classification, on: date
) -> Qualification:
    required = registry.required_courses(classification)
    courses = tuple(course_status(registry, staff_id, course, on) for course in required)
    return Qualification(staff_id, classification, on, courses)

"""The training catalogue, the courses each classification requires, and who completed what when.

A completion's expiry is derived (completion date + the course's validity), never typed in, so a
course whose validity changes re-dates every record consistently.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import get_args

from pydantic import BaseModel, Field

from governance.registry.loading import RegistryError, entry_label, read_section, validated
from governance.registry.ownership import Classification, StaffMember

LEVELS: tuple[Classification, ...] = get_args(Classification)


class Course(BaseModel):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    name: str
    validity_months: int = Field(gt=0, le=120)


class ClassificationLevel(BaseModel):
    level: Classification
    description: str
    requires: list[str] = Field(min_length=1)


class Completion(BaseModel):
    staff: str
    course: str
    completed_on: date


@dataclass(frozen=True)
class TrainingRecord:
    """One completed course and the day it stops counting."""

    staff: str
    course: str
    completed_on: date
    expires_on: date


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _not_in_catalogue(course: str) -> str:
    return f"course {course!r} is not in the training catalogue (courses.yaml)"


def load_courses(path: Path) -> dict[str, Course]:
    entries = read_section(path, "courses")
    if not isinstance(entries, list):
        raise RegistryError(f"{path}: 'courses' must be a list of courses")
    courses: dict[str, Course] = {}
    for index, entry in enumerate(entries):
        where = f"{path}: courses[{index}] ({entry_label(entry)})"
        course = validated(Course, entry, where)
        if course.id in courses:
            raise RegistryError(f"{where} field 'id': duplicate course id {course.id}")
        courses[course.id] = course
    return courses


def load_levels(path: Path, courses: dict[str, Course]) -> dict[Classification, ClassificationLevel]:
    """Levels from least to most sensitive; each must require at least what the one below does."""
    entries = read_section(path, "classifications")
    if not isinstance(entries, list):
        raise RegistryError(f"{path}: 'classifications' must be a list of levels")
    levels: dict[Classification, ClassificationLevel] = {}
    for index, entry in enumerate(entries):
        where = f"{path}: classifications[{index}] ({entry_label(entry, 'level')})"
        level = validated(ClassificationLevel, entry, where)
        if level.level in levels:
            raise RegistryError(f"{where} field 'level': duplicate level {level.level}")
        for position, course in enumerate(level.requires):
            if course not in courses:
                raise RegistryError(f"{where} field 'requires.{position}': {_not_in_catalogue(course)}")
        if levels:
            below = list(levels.values())[-1]
            missing = sorted(set(below.requires) - set(level.requires))
            if missing:
                raise RegistryError(
                    f"{where} field 'requires': {level.level} must require everything {below.level} does; "
                    f"missing {', '.join(missing)}"
                )
        levels[level.level] = level
    absent = [name for name in LEVELS if name not in levels]
    if absent:
        raise RegistryError(f"{path}: classification level(s) with no requirements: {', '.join(absent)}")
    return levels


def load_training(
    path: Path, courses: dict[str, Course], staff: dict[str, StaffMember]
) -> tuple[TrainingRecord, ...]:
    entries = read_section(path, "completions")
    if not isinstance(entries, list):
        raise RegistryError(f"{path}: 'completions' must be a list of completed courses")
    records: list[TrainingRecord] = []
    seen: set[tuple[str, str, date]] = set()
    for index, entry in enumerate(entries):
        where = f"{path}: completions[{index}] ({entry_label(entry, 'staff')})"
        done = validated(Completion, entry, where)
        if done.staff not in staff:
            raise RegistryError(f"{where} field 'staff': unknown staff id {done.staff}")
        if done.course not in courses:
            raise RegistryError(f"{where} field 'course': {_not_in_catalogue(done.course)}")
        if (done.staff, done.course, done.completed_on) in seen:
            raise RegistryError(f"{where}: duplicate completion of {done.course} on {done.completed_on}")
        seen.add((done.staff, done.course, done.completed_on))
        expires = add_months(done.completed_on, courses[done.course].validity_months)
        records.append(TrainingRecord(done.staff, done.course, done.completed_on, expires))
    return tuple(records)

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

from cityplatform.yamlfiles import RegistryError, YamlDocument, load_model
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
    max_retention_days: int | None = Field(
        default=None, gt=0, description="No dataset of this level may be kept longer (personal data)."
    )


class Completion(BaseModel):
    staff: str
    course: str
    completed_on: date


class CoursesFile(YamlDocument):
    courses: list[Course] = Field(min_length=1)


class ClassificationsFile(YamlDocument):
    entry_key = "level"
    classifications: list[ClassificationLevel]


class TrainingFile(YamlDocument):
    entry_key = "staff"
    completions: list[Completion]


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
    courses: dict[str, Course] = {}
    for index, course in enumerate(load_model(path, CoursesFile).courses):
        where = CoursesFile.where(path, "courses", index, course)
        if course.id in courses:
            raise RegistryError(f"{where} field 'id': duplicate course id {course.id}")
        courses[course.id] = course
    return courses


def load_levels(path: Path, courses: dict[str, Course]) -> dict[Classification, ClassificationLevel]:
    """Levels from least to most sensitive; each must require at least what the one below does."""
    levels: dict[Classification, ClassificationLevel] = {}
    for index, level in enumerate(load_model(path, ClassificationsFile).classifications):
        where = ClassificationsFile.where(path, "classifications", index, level)
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
    records: list[TrainingRecord] = []
    seen: set[tuple[str, str, date]] = set()
    for index, done in enumerate(load_model(path, TrainingFile).completions):
        where = TrainingFile.where(path, "completions", index, done)
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

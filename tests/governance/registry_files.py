"""Copies of the committed registry in a temp folder, to break or reshape without touching the real one."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from cityplatform.settings import load_settings
from governance.registry.location import REGISTRY_DIR

FILES = (
    "staff.yaml",
    "ownership.yaml",
    "courses.yaml",
    "classifications.yaml",
    "training.yaml",
    "grants.yaml",
)
COURSES = ("stewardship-fundamentals", "data-quality", "secure-handling", "personal-data-cctv")


def city_today() -> date:
    return datetime.now(ZoneInfo(load_settings().timezone)).date()


def copy_registry(target: Path) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(REGISTRY_DIR / name, target / name)
    return target


def write_training(directory: Path, completions: dict[str, dict[str, date]]) -> None:
    """Replace training.yaml: staff id -> course -> completed_on."""
    rows = [
        {"staff": staff, "course": course, "completed_on": day.isoformat()}
        for staff, courses in completions.items()
        for course, day in courses.items()
    ]
    (directory / "training.yaml").write_text(yaml.safe_dump({"completions": rows}, sort_keys=False))


def all_courses(completed_on: date) -> dict[str, date]:
    return dict.fromkeys(COURSES, completed_on)


def trained_registry(target: Path, completed: dict[str, date] | None = None) -> Path:
    """A copy where everyone completed every course a month before today (city time), except the
    staff in ``completed`` (id -> the day they completed every course): outcomes never drift."""
    directory = copy_registry(target)
    staff = [member["id"] for member in yaml.safe_load((directory / "staff.yaml").read_text())["staff"]]
    usual = city_today() - timedelta(days=30)
    write_training(directory, {s: all_courses((completed or {}).get(s, usual)) for s in staff})
    return directory

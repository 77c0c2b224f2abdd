"""The departments registry: who consumes marts, and the bucket each one reads from."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, ValidationError

REGISTRY_FILE = Path(__file__).with_name("departments.yaml")


class RegistryError(ValueError):
    """A registry file failed validation; the message names file, entry and field."""


class Department(BaseModel):
    id: str = Field(pattern=r"^[a-z_]+$")
    name: str
    bucket_suffix: str = Field(pattern=r"^[a-z0-9-]{3,40}$")

    @property
    def bucket(self) -> str:
        return f"marts-{self.bucket_suffix}"


@cache
def load_departments(path: Path = REGISTRY_FILE) -> tuple[Department, ...]:
    entries = (yaml.safe_load(path.read_text()) or {}).get("departments", [])
    departments = []
    for index, entry in enumerate(entries):
        try:
            departments.append(Department.model_validate(entry))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise RegistryError(
                f"{path}: departments[{index}] (id={entry.get('id')!r}) field {field!r}: {first['msg']}"
            ) from exc
    ids = [d.id for d in departments]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RegistryError(f"{path}: duplicate department id(s): {', '.join(duplicates)}")
    return tuple(departments)


def mart_buckets() -> list[str]:
    return [d.bucket for d in load_departments()]

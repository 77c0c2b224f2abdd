"""The departments registry: who consumes marts, and the bucket each one reads from."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from pydantic import BaseModel, Field

from cityplatform.yamlfiles import RegistryError, YamlDocument, load_model

REGISTRY_FILE = Path(__file__).with_name("departments.yaml")


class Department(BaseModel):
    id: str = Field(pattern=r"^[a-z_]+$")
    name: str
    bucket_suffix: str = Field(pattern=r"^[a-z0-9-]{3,40}$")

    @property
    def bucket(self) -> str:
        return f"marts-{self.bucket_suffix}"


class DepartmentsFile(YamlDocument):
    departments: list[Department]


@cache
def load_departments(path: Path = REGISTRY_FILE) -> tuple[Department, ...]:
    departments = load_model(path, DepartmentsFile).departments
    ids = [d.id for d in departments]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RegistryError(f"{path}: duplicate department id(s): {', '.join(duplicates)}")
    return tuple(departments)


def mart_buckets() -> list[str]:
    return [d.bucket for d in load_departments()]

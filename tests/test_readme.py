"""The README's generated parts stay equal to what they describe."""

from __future__ import annotations

from pathlib import Path

from governance.registry.departments import load_departments
from tests.readme import readme_table

MARTS = Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "marts"


def test_department_bucket_table_is_the_registry_and_the_marts_folders() -> None:
    expected = [
        [
            department.id,
            f"`{department.bucket}`",
            ", ".join(f"`{model.stem}`" for model in sorted((MARTS / department.id).glob("*.sql"))),
        ]
        for department in sorted(load_departments(), key=lambda d: d.id)
    ]
    assert readme_table("department-buckets") == expected

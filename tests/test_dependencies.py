"""Every third-party package the shipped code imports is declared in pyproject.toml.

A package that arrives only as another one's dependency (networkx through dbt, attrs through
OpenLineage) works until that one drops it; declaring it makes the import a contract.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("cityapp", "cityplatform", "citysim", "governance", "ingestion", "orchestration", "vision_jobs")


def normalise(name: str) -> str:
    """PEP 503 form, so ``PyYAML``, ``pyyaml`` and ``duckdb_extension_httpfs`` compare equal."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(root: Path) -> set[str]:
    """Runtime requirements only: the dependencies and the ``production`` extra a deployment installs
    (the Kubernetes Pipes client of vision runs); the shipped code may not lean on a dev extra."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    runtime = [*project["dependencies"], *project["optional-dependencies"]["production"]]
    return {normalise(re.match(r"[A-Za-z0-9._-]+", req).group()) for req in runtime}


def imports(path: Path) -> Iterator[tuple[str, int]]:
    """(top-level module, line) of every absolute import in the file, lazy ones inside functions too."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((alias.name.partition(".")[0], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.partition(".")[0], node.lineno


def undeclared_imports(root: Path = ROOT) -> list[str]:
    distributions = packages_distributions()
    wanted = declared(root)
    problems = []
    for package in SHIPPED:
        for path in sorted((root / package).rglob("*.py")):
            for module, line in imports(path):
                if module in sys.stdlib_module_names or module in SHIPPED:
                    continue
                providers = {normalise(d) for d in distributions.get(module, [])}
                if not providers & wanted:
                    found = ", ".join(sorted(providers)) or "no installed distribution"
                    problems.append(f"{path.relative_to(root)}:{line} imports {module} ({found})")
    return problems


def test_every_third_party_import_is_a_declared_dependency() -> None:
    assert undeclared_imports() == []


def test_the_scan_sees_an_undeclared_import(tmp_path: Path) -> None:
    """The check can fail: a module importing a package pyproject.toml does not name is reported."""
    fake = tmp_path / "cityplatform"
    fake.mkdir()
    (fake / "uses_jsonschema.py").write_text("def f():\n    import jsonschema.validators\n")
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    assert undeclared_imports(tmp_path) == [
        "cityplatform/uses_jsonschema.py:2 imports jsonschema (jsonschema)"
    ]

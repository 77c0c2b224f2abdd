"""Every deployment file is well-formed: YAML and JSON parse, shell scripts pass `sh -n`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.infra.helpers import COMPOSE_DIR, INFRA, load_yaml_all, read_env_file


def files(*suffixes: str) -> list[Path]:
    return sorted(p for p in INFRA.rglob("*") if p.suffix in suffixes)


def name(path: Path) -> str:
    return str(path.relative_to(INFRA))


@pytest.mark.parametrize("path", files(".yaml", ".yml"), ids=name)
def test_yaml_parses(path: Path) -> None:
    documents = load_yaml_all(path)
    assert documents and all(isinstance(doc, dict) for doc in documents)


@pytest.mark.parametrize("path", files(".json"), ids=name)
def test_json_parses(path: Path) -> None:
    assert isinstance(json.loads(path.read_text()), dict)


@pytest.mark.parametrize("path", files(".sh"), ids=name)
def test_shell_script_parses(path: Path) -> None:
    result = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True, timeout=10, check=False)
    assert result.returncode == 0, result.stderr
    assert path.read_text().startswith("#!/bin/sh\n")


def test_env_example_parses() -> None:
    assert read_env_file(COMPOSE_DIR / ".env.example")


def test_files_are_found() -> None:
    assert len(files(".yaml", ".yml")) >= 10 and len(files(".json")) >= 6 and len(files(".sh")) == 2

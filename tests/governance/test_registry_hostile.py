"""Hostile registry folders through the CLI: each is one line naming the file and the entry, exit 2.

Every case breaks a copy of the committed registry in its own way and runs ``city access show``
against it (``CITY_GOVERNANCE_REGISTRY``): the answer is exactly ``error: <file>: <what>``, never a
traceback and never a table drawn from a registry that was silently half-read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityapp.cli.main import app
from cityplatform.exits import EXIT_CONFIG
from cityplatform.yamlfiles import MAX_DEPTH
from governance.registry.departments import REGISTRY_FILE as DEPARTMENTS_FILE
from tests.governance.registry_files import copy_registry

FILES = "staff.yaml, courses.yaml, classifications.yaml, training.yaml, ownership.yaml, grants.yaml"
RAW_READINGS = "deputy: S-014, department: traffic, classification: internal, retention_days: 30"


def write(name: str, data: str | bytes) -> Callable[[Path], str]:
    """Replace ``name`` with ``data``; the file the error must name."""

    def breaks(directory: Path) -> str:
        path = directory / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
        return name

    return breaks


def edit(name: str, old: str, new: str) -> Callable[[Path], str]:
    def breaks(directory: Path) -> str:
        path = directory / name
        text = path.read_text()
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1))
        return "ownership.yaml"  # what an inactive owner breaks

    return breaks


def add(
    name: str, make: Callable[[Path], object] = lambda path: path.write_text("x: 1\n")
) -> Callable[[Path], str]:
    def breaks(directory: Path) -> str:
        make(directory / name)
        return name

    return breaks


def leave(staff_id: str) -> Callable[[Path], str]:
    """``staff_id`` marked as gone in staff.yaml while ownership.yaml still names them."""

    def breaks(directory: Path) -> str:
        path = directory / "staff.yaml"
        lines = path.read_text().splitlines(keepends=True)
        path.write_text(
            "".join(
                line.replace("active: true", "active: false") if f"id: {staff_id}," in line else line
                for line in lines
            )
        )
        return "ownership.yaml"

    return breaks


@dataclass(frozen=True)
class Case:
    name: str
    breaks: Callable[[Path], str]  # breaks the registry copy; returns the file the error names
    expected: str  # the message after ``error: <that file>: ``


def bomb(levels: int) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


CASES = [
    Case(
        "not UTF-8",
        write("staff.yaml", b"staff:\n  - {id: S-001, name: Caf\xe9}\n"),
        "not UTF-8 text: byte 0xe9 at line 2 (save it as UTF-8)",
    ),
    Case(
        "top level a list",
        write("ownership.yaml", "- iot/raw/readings\n- iot/bronze/readings\n"),
        "the top level is a list: expected a mapping with 'datasets'",
    ),
    Case(
        "top level a scalar",
        write("grants.yaml", "everyone may read everything\n"),
        "the top level is a single value: expected a mapping with 'grants'",
    ),
    Case("empty file", write("ownership.yaml", ""), "the file is empty: expected a mapping with 'datasets'"),
    Case(
        "comments only",
        write("training.yaml", "# to be filled in\n"),
        "the file is empty: expected a mapping with 'completions'",
    ),
    Case(
        "no dataset owned",
        write("ownership.yaml", "datasets: {}\n"),
        "field 'datasets': Dictionary should have at least 1 item after validation, not 0",
    ),
    Case(
        "no staff",
        write("staff.yaml", "staff: []\n"),
        "field 'staff': List should have at least 1 item after validation, not 0",
    ),
    Case(
        "no course",
        write("courses.yaml", "courses: []\n"),
        "field 'courses': List should have at least 1 item after validation, not 0",
    ),
    Case(
        "another file's content",
        write("staff.yaml", "datasets:\n  iot/raw/readings: {steward: S-007}\n"),
        "holds 'datasets', not 'staff': another file's content, or the wrong file?",
    ),
    Case(
        "stray file, near a known name",
        add("staff.yml"),
        "not a file of the registry; did you mean staff.yaml?",
    ),
    Case(
        "stray file",
        add("notes.txt"),
        f"not a file of the registry (it holds {FILES})",
    ),
    Case(
        "stray folder",
        add("2025", Path.mkdir),
        f"not a file of the registry (it holds {FILES})",
    ),
    Case(
        "departments copied into the registry folder",
        add("departments.yaml"),
        f"misplaced: departments are read from {DEPARTMENTS_FILE} only (their buckets and keys follow it); "
        "remove this copy",
    ),
    Case(
        "a registry file that is a folder",
        add("grants.yaml", lambda p: (p.unlink(), p.mkdir())),
        "cannot read: Is a directory",
    ),
    Case(
        "inactive steward",
        leave("S-022"),
        "datasets['iot/bronze/river_gauges'] field 'steward': S-022 Kang Tae-yang is not active "
        "(staff.yaml): name an active steward here",
    ),
    Case(
        "inactive deputy",
        leave("S-011"),
        "datasets['iot/bronze/readings'] field 'deputy': S-011 Park Seo-yeon is not active (staff.yaml): "
        "name an active deputy here",
    ),
    Case(
        "duplicate dataset",
        write(
            "ownership.yaml",
            "datasets:\n"
            f"  iot/raw/readings: {{steward: S-007, {RAW_READINGS}}}\n"
            f"  iot/raw/readings: {{steward: S-011, {RAW_READINGS}}}\n",
        ),
        "not valid YAML at line 3: duplicate key 'iot/raw/readings'",
    ),
    Case(
        "alias bomb",
        write("grants.yaml", bomb(9)),
        "not valid YAML at line 6: aliases expand it to more than 1,000,000 values",
    ),
    Case(
        "alias to itself",
        write("ownership.yaml", "datasets: &all\n  iot/raw/readings: *all\n"),
        "not valid YAML at line 2: alias *all refers to the entry it is in",
    ),
    Case(
        "nested too deep",
        write("courses.yaml", "courses: " + "[" * 5000 + "]" * 5000 + "\n"),
        f"not valid YAML at line 1: nested deeper than {MAX_DEPTH}",
    ),
    Case(
        "a list as a key",
        write("staff.yaml", "staff:\n  - {[id]: S-001}\n"),
        "not valid YAML at line 2: a list or a mapping used as a key",
    ),
    Case(
        "a NUL byte",
        write("training.yaml", "completions: []\n\x00\n"),
        "not valid YAML: unacceptable character #x0000: special characters are not allowed in "
        '"<unicode string>", position 16',
    ),
    Case(
        "an impossible date",
        write(
            "training.yaml",
            "completions:\n  - {staff: S-007, course: data-quality, completed_on: 2026-02-30}\n",
        ),
        "completions[0] (staff='S-007') field 'completed_on': Input should be a valid date or datetime, "
        "day value is outside expected range",
    ),
]


def city(directory: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["access", "show"], env={"CITY_GOVERNANCE_REGISTRY": str(directory)})
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not escaped and "Traceback" not in result.output, result.output
    return result.exit_code, result.output


def test_the_corpus_counts_every_class_the_issue_names() -> None:
    names = {case.name for case in CASES}
    assert len(names) == len(CASES) >= 20
    assert {
        "not UTF-8",
        "top level a list",
        "empty file",
        "stray file",
        "inactive steward",
        "inactive deputy",
    } <= names


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_hostile_registry_is_one_line_naming_file_and_entry(case: Case, tmp_path: Path) -> None:
    directory = copy_registry(tmp_path / "registry")
    named = case.breaks(directory)
    code, output = city(directory)
    assert (code, output) == (EXIT_CONFIG, f"error: {directory / named}: {case.expected}\n")


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda d: None, "cannot read the registry folder: No such file or directory"),
        (lambda d: d.write_text("staff: []\n"), "cannot read the registry folder: Not a directory"),
        (
            Path.mkdir,
            f"no registry file here (CITY_GOVERNANCE_REGISTRY names the folder of {FILES})",
        ),
    ],
    ids=["missing", "a file", "empty"],
)
def test_a_folder_that_is_not_a_registry_is_named(
    make: Callable[[Path], object], expected: str, tmp_path: Path
) -> None:
    directory = tmp_path / "registry"
    make(directory)
    assert city(directory) == (EXIT_CONFIG, f"error: {directory}: {expected}\n")


def test_the_committed_registry_and_its_copies_still_load(tmp_path: Path) -> None:
    code, output = city(copy_registry(tmp_path / "registry"))
    assert code == 0 and "Grants on" in output
    hidden = copy_registry(tmp_path / "with-hidden") / ".gitkeep"
    hidden.write_text("")  # hidden files (VCS, editors, the OS) are not registry files and are let be
    assert city(hidden.parent)[0] == 0

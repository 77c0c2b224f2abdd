"""The one YAML loader: duplicate keys refused, dates left to pydantic, every fault in one line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import BaseModel

from cityplatform.yamlfiles import RegistryError, YamlDocument, load_model, load_yaml


class Entry(BaseModel):
    name: str
    since: date


class EntriesFile(YamlDocument):
    entry_key = "name"
    entries: list[Entry]


def fault(tmp_path: Path, text: str) -> str:
    path = tmp_path / "entries.yaml"
    path.write_text(text)
    with pytest.raises(RegistryError) as error:
        load_model(path, EntriesFile)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message.removeprefix(f"{path}: ")


def test_dates_stay_text_until_the_model_parses_them(tmp_path: Path) -> None:
    path = tmp_path / "entries.yaml"
    path.write_text("entries:\n  - {name: a, since: 2026-01-05}\n")
    assert load_yaml(path) == {"entries": [{"name": "a", "since": "2026-01-05"}]}
    assert load_model(path, EntriesFile).entries[0].since == date(2026, 1, 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "entries:\n  - {name: a, since: 2026-01-05, name: b}\n",
            "not valid YAML at line 2: duplicate key 'name'",
        ),
        ("entries: [unclosed\n", "not valid YAML at line 2: expected ',' or ']', but got '<stream end>'"),
        ("- a list\n", "expected a mapping with 'entries'"),
        ("entries: {}\n", "field 'entries': Input should be a valid list"),
        ("entries: []\nextra: 1\n", "field 'extra': Extra inputs are not permitted"),
        (
            "entries:\n  - {name: a, since: 2026-01-05}\n  - {name: b, since: 2026-02-30}\n",
            "entries[1] (name='b') field 'since': Input should be a valid date or datetime, "
            "day value is outside expected range",
        ),
    ],
)
def test_each_fault_names_the_file_the_entry_and_the_field(tmp_path: Path, text: str, expected: str) -> None:
    assert fault(tmp_path, text) == expected


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"nowhere\.yaml: file is missing$"):
        load_yaml(tmp_path / "nowhere.yaml")

"""The one YAML loader: duplicate keys refused, dates left to pydantic, every fault in one line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import BaseModel

from cityplatform.yamlfiles import MAX_DEPTH, MAX_VALUES, RegistryError, YamlDocument, load_model, load_yaml


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
        ("- a list\n", "the top level is a list: expected a mapping with 'entries'"),
        ("", "the file is empty: expected a mapping with 'entries'"),
        ("3\n", "the top level is a single value: expected a mapping with 'entries'"),
        ("cameras: []\n", "holds 'cameras', not 'entries': another file's content, or the wrong file?"),
        ("entries: &e [*e]\n", "not valid YAML at line 1: alias *e refers to the entry it is in"),
        ("entries: [{? [a]\n : 1}]\n", "not valid YAML at line 1: a list or a mapping used as a key"),
        (
            "entries: " + "[" * 40 + "]" * 40 + "\n",
            f"not valid YAML at line 1: nested deeper than {MAX_DEPTH}",
        ),
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


def test_text_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "entries.yaml"
    path.write_bytes(b"entries:\n  - {name: caf\xe9, since: 2026-01-05}\n")
    with pytest.raises(
        RegistryError, match=r"entries\.yaml: not UTF-8 text: byte 0xe9 at line 2 \(save it as UTF-8\)$"
    ):
        load_yaml(path)


def test_aliases_may_repeat_a_value_but_not_explode(tmp_path: Path) -> None:
    path = tmp_path / "entries.yaml"
    path.write_text("a: &a [1, 2]\nb: [*a, *a]\n")
    assert load_yaml(path) == {"a": [1, 2], "b": [[1, 2], [1, 2]]}
    levels = ["a0: &a0 [" + ", ".join(["x"] * 10) + "]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    path.write_text("\n".join(levels) + "\n")  # 10**9 values in nine lines
    with pytest.raises(
        RegistryError, match=rf"line 6: aliases expand it to more than {MAX_VALUES:,} values$"
    ):
        load_yaml(path)
    chain = ["a0: &a0 [x]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, MAX_DEPTH + 5)]
    path.write_text("\n".join(chain) + "\n")
    with pytest.raises(RegistryError, match=rf"aliases nest it deeper than {MAX_DEPTH}$"):
        load_yaml(path)

"""Reading the YAML files the platform runs on (governance registry, camera registry): one way.

Every such file is read by :func:`load_model` into a pydantic model of the whole file, so a
mistake is refused when the file is loaded, in one line that names the file, the entry and the
field (``staff.yaml: staff[8] (id='S-007') field 'email': ...``), never later as a KeyError.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


class RegistryError(ValueError):
    """A YAML file the platform reads cannot be used; the one-line message names file, entry and field."""


class YamlDocument(BaseModel):
    """The shape of one YAML file, its top-level sections as fields (unknown sections refused).

    ``entry_key`` is the field that names an entry of a list section in errors, as in
    ``cameras[1] (camera_id='cam-02')``.
    """

    model_config = ConfigDict(extra="forbid")
    entry_key: ClassVar[str] = "id"

    @classmethod
    def where(cls, path: Path, section: str, key: int | str, entry: object = None) -> str:
        """``path: staff[8] (id='S-007')`` or ``path: datasets['iot/raw/readings']`` (raw or parsed entry)."""
        place = f"{section}[{key}]" if isinstance(key, int) else f"{section}[{key!r}]"
        name = entry.get(cls.entry_key) if isinstance(entry, dict) else getattr(entry, cls.entry_key, None)
        label = f" ({cls.entry_key}={name!r})" if isinstance(key, int) and name is not None else ""
        return f"{path}: {place}{label}"


DocumentT = TypeVar("DocumentT", bound=YamlDocument)


MAX_DEPTH = 32
"""Nesting a platform YAML file may have (the registry's deepest is 4), aliases expanded: deeper is
refused with its line before Python's recursion limit turns it into a traceback."""
MAX_VALUES = 1_000_000
"""Values (keys, scalars, lists, mappings) a file may expand to. A few aliases that repeat aliases
(``b: [*a, *a, *a]``, ``c: [*b, *b, *b]``...) stand for billions, which the validator would visit
one by one; a real registry of 10,000 people has about 400,000."""


class _StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys, deep nesting and alias bombs, and leaves dates as text.

    PyYAML keeps the last of two equal keys silently (a second ``iot/raw/readings:`` or
    ``frame_stride:`` appended by someone else would replace the first), and turns ``2025-02-30``
    into a bare ValueError with no file or entry; pydantic parses the text instead and names the field.
    """

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.extent: dict[int, tuple[int, int]] = {}  # id(node) -> (values, nesting) with aliases expanded

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        event = self.peek_event()
        if self.depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(None, None, f"nested deeper than {MAX_DEPTH}", event.start_mark)
        self.depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if isinstance(event, yaml.AliasEvent):
            if id(node) not in self.extent:  # its anchor is still open: the entry contains itself
                problem = f"alias *{event.anchor} refers to the entry it is in"
                raise yaml.composer.ComposerError(None, None, problem, event.start_mark)
            return node
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        else:
            children = []
        parts = [self.extent[id(child)] for child in children]
        values, nesting = 1 + sum(v for v, _ in parts), 1 + max((n for _, n in parts), default=0)
        if nesting > MAX_DEPTH or values > MAX_VALUES:
            problem = (
                f"aliases nest it deeper than {MAX_DEPTH}"
                if nesting > MAX_DEPTH
                else f"aliases expand it to more than {MAX_VALUES:,} values"
            )
            raise yaml.composer.ComposerError(None, None, problem, node.start_mark)
        self.extent[id(node)] = (values, nesting)
        return node

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # a list or mapping as a key
                raise yaml.constructor.ConstructorError(
                    None, None, "a list or a mapping used as a key", key_node.start_mark
                ) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: Path) -> Any:
    """The document in ``path``; a missing or unreadable file, text that is not UTF-8, bad syntax or
    a duplicate key is a one-line RegistryError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RegistryError(f"{path}: file is missing") from exc
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        line = exc.object.count(b"\n", 0, exc.start) + 1
        raise RegistryError(
            f"{path}: not UTF-8 text: byte {exc.object[exc.start]:#04x} at line {line} (save it as UTF-8)"
        ) from exc
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        line = f" at line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
        raise RegistryError(f"{path}: not valid YAML{line}: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: not valid YAML: {' '.join(str(exc).split())}") from exc


def load_model(path: Path, model: type[DocumentT]) -> DocumentT:
    """``path`` validated as ``model``; the first fault is a RegistryError naming entry and field."""
    document = load_yaml(path)
    sections = ", ".join(map(repr, model.model_fields))
    if not isinstance(document, dict):
        found = {type(None): "the file is empty", list: "the top level is a list"}.get(
            type(document), "the top level is a single value"
        )
        raise RegistryError(f"{path}: {found}: expected a mapping with {sections}")
    if document and not set(document) & set(model.model_fields):
        found = ", ".join(map(repr, list(document)[:3]))
        raise RegistryError(
            f"{path}: holds {found}, not {sections}: another file's content, or the wrong file?"
        )
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise RegistryError(_first_fault(path, model, document, exc)) from exc


def _first_fault(path: Path, model: type[YamlDocument], document: dict, error: ValidationError) -> str:
    first = error.errors()[0]
    cause = first.get("ctx", {}).get("error")
    message = str(cause) if first["type"] == "value_error" and cause else first["msg"]
    loc = first["loc"]
    if len(loc) < 2:  # the file or a whole section
        return f"{path}: field {'.'.join(map(str, loc))!r}: {message}" if loc else f"{path}: {message}"
    section, key, fields = str(loc[0]), loc[1], loc[2:]
    try:
        entry = document[section][key]
    except (KeyError, IndexError, TypeError):
        entry = None
    where = model.where(path, section, key, entry)
    return f"{where} field {'.'.join(map(str, fields))!r}: {message}" if fields else f"{where}: {message}"

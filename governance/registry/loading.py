"""Reading registry YAML with errors that name the file, the entry and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)


class RegistryError(ValueError):
    """A registry file failed validation; the message names file, entry and field."""


class _RegistryLoader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys and leaves dates as text.

    PyYAML keeps the last of two equal keys silently (a second ``iot/raw/readings:`` appended by
    someone else would replace the first), and turns ``2025-02-30`` into a bare ValueError with
    no file or entry; pydantic parses the text instead and the error names the field.
    """

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (line {line})", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_section(path: Path, section: str) -> Any:
    try:
        document = yaml.load(path.read_text(), Loader=_RegistryLoader) or {}
    except FileNotFoundError as exc:
        raise RegistryError(f"{path}: registry file is missing") from exc
    except yaml.YAMLError as exc:
        raise RegistryError(f"{path}: not valid YAML: {exc}") from exc
    return document.get(section) or {}


def validated(model: type[ModelT], entry: object, where: str) -> ModelT:
    """``model`` from ``entry``, or a RegistryError naming ``where`` and the first bad field."""
    try:
        return model.model_validate(entry)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(entry)"
        raise RegistryError(f"{where} field {field!r}: {first['msg']}") from exc


def entry_label(entry: object, key: str = "id") -> str:
    """``id='S-007'`` for error messages, tolerant of entries that are not mappings."""
    return f"{key}={entry.get(key)!r}" if isinstance(entry, dict) else "not a mapping"

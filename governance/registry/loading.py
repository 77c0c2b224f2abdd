"""Reading registry YAML with errors that name the file, the entry and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

ModelT = TypeVar("ModelT", bound=BaseModel)


class RegistryError(ValueError):
    """A registry file failed validation; the message names file, entry and field."""


def read_section(path: Path, section: str) -> Any:
    try:
        document = yaml.safe_load(path.read_text()) or {}
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

"""Readers and checkers shared by the infra tests: compose interpolation, image pins, secret scans."""

from __future__ import annotations

import contextlib
import json
import re
import tomllib
from collections.abc import Collection, Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
COMPOSE_DIR = INFRA / "compose"
K8S = INFRA / "k8s"
DEPARTMENTS_YAML = REPO / "governance" / "registry" / "departments.yaml"


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def load_yaml_all(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


def pinned_dependency(name: str) -> str:
    """The version pinned with ``name==X`` in pyproject's dependencies."""
    for requirement in pyproject()["project"]["dependencies"]:
        match = re.fullmatch(rf"{re.escape(name)}==([\w.]+)", requirement.replace(" ", ""))
        if match:
            return match.group(1)
    raise AssertionError(f"{name} is not pinned with == in pyproject.toml")


def department_suffixes() -> list[str]:
    """Bucket suffixes of the departments registry, read straight from its YAML."""
    return [d["bucket_suffix"] for d in load_yaml(DEPARTMENTS_YAML)["departments"]]


def department_ids() -> list[str]:
    """Department ids of the registry (what secrets and MinIO policies are named by), from its YAML."""
    return [d["id"] for d in load_yaml(DEPARTMENTS_YAML)["departments"]]


# --- compose interpolation ------------------------------------------------------------------------

_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)"
)


class MissingVariable(KeyError):
    """A ``${VAR:?message}`` whose variable is unset, as compose would refuse it."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's variable substitution: ``$$``, ``$VAR``, ``${VAR}``, ``${VAR:-x}``, ``${VAR:?x}``."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("plain")
        op, arg = match.group("op"), match.group("arg") or ""
        value = env.get(name)
        unset = value is None or (op is not None and op.startswith(":") and value == "")
        if op and op.endswith("?") and unset:
            raise MissingVariable(f"{name}: {arg}")
        if op and op.endswith("-") and unset:
            return arg
        return value or ""

    return _VARIABLE.sub(substitute, text)


def variables_used(node: Any) -> set[str]:
    names = (m.group("braced") or m.group("plain") for s in strings(node) for m in _VARIABLE.finditer(s))
    return {name for name in names if name}


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)


def resolve(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, Mapping):
        return {key: resolve(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item, env) for item in node]
    return node


def read_env_file(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: not KEY=value: {line!r}"
            env[key.strip()] = value.strip()
    return env


@cache
def compose_raw() -> dict[str, Any]:
    return load_yaml(COMPOSE_DIR / "compose.yaml")


@cache
def compose() -> dict[str, Any]:
    """compose.yaml as compose would run it with .env.example as its .env."""
    return resolve(compose_raw(), read_env_file(COMPOSE_DIR / ".env.example"))


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


# --- images ---------------------------------------------------------------------------------------


def image_problem(reference: str) -> str | None:
    """Why an image reference is not pinned, or None when it names a fixed version or digest."""
    if re.search(r"@sha256:[0-9a-f]{64}$", reference):
        return None
    last = reference.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"{reference}: no tag (means latest)"
    tag = last.rsplit(":", 1)[1]
    if not tag or "$" in tag:
        return f"{reference}: tag is empty or unresolved"
    if tag == "latest" or not re.search(r"\d", tag):
        return f"{reference}: floating tag {tag!r}"
    return None


def image_references(node: Any) -> Iterator[str]:
    """Every image named under an ``image`` key: strings, or Helm-style {registry, repository, tag}."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "image" and isinstance(value, str):
                yield value
            elif key == "image" and isinstance(value, Mapping) and "repository" in value:
                registry = f"{value['registry']}/" if value.get("registry") else ""
                tag = value.get("tag")
                yield f"{registry}{value['repository']}" + (f":{tag}" if tag not in (None, "") else "")
            else:
                yield from image_references(value)
    elif isinstance(node, list):
        for item in node:
            yield from image_references(item)


# --- literal secrets ------------------------------------------------------------------------------

_SECRET_NAME = re.compile(
    r"pass(word|wd)?|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credential", re.I
)
# Names that point at a secret (a file, a folder, a Secret object) rather than hold one.
_REFERENCE_NAME = re.compile(r"(file|name|ref|refs|dir|path)$", re.I)
_REFERENCE_KEYS = {
    "secrets",
    "envsecrets",
    "existingsecret",
    "externalcertsecret",
    "externalcacertsecret",
    "imagepullsecrets",
    "secret",
    # ingress-nginx's annotation naming the Secret that holds the htpasswd file
    "nginx.ingress.kubernetes.io/auth-secret",
}
# ${VAR} or ${VAR:?message}: a value supplied at deploy time. $(cat file): read from a mounted file.
_REFERENCE_VALUE = re.compile(
    r"""^["']?(\$\{[A-Za-z_][A-Za-z0-9_]*(:?\?[^}]*)?\}|\$[A-Za-z_][A-Za-z0-9_]*|\$?\$\(cat [^)]+\))["']?$"""
)
_ASSIGNMENT = re.compile(r"""(?:^|[\s"'])(?:--)?([A-Za-z_][A-Za-z0-9_-]*)=("[^"]*"|'[^']*'|[^\s;&|"']+)""")
_URL_CREDENTIALS = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:([^/\s@]+)@", re.I)


def holds_secret(name: str) -> bool:
    return bool(_SECRET_NAME.search(name)) and not (
        _REFERENCE_NAME.search(name) or name.lower() in _REFERENCE_KEYS
    )


def _is_literal(value: object) -> bool:
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    text = str(value).strip()
    return bool(text) and not _REFERENCE_VALUE.match(text)


def _scan_string(text: str, where: str) -> list[str]:
    found = [
        f"{where}: {name} is assigned a literal"
        for name, value in _ASSIGNMENT.findall(text)
        if holds_secret(name) and _is_literal(value)
    ]
    found += [
        f"{where}: credentials inside a URL" for pw in _URL_CREDENTIALS.findall(text) if _is_literal(pw)
    ]
    if text.lstrip().startswith(("{", "[")):
        with contextlib.suppress(json.JSONDecodeError):
            found += find_literal_secrets(json.loads(text), f"{where}<json>")
    return found


def find_literal_secrets(node: Any, where: str = "") -> list[str]:
    """Places where a credential is written out instead of referenced (file, Secret, ${VAR})."""
    found: list[str] = []
    if isinstance(node, Mapping):
        name = node.get("name")
        if isinstance(name, str) and "value" in node and holds_secret(name) and _is_literal(node["value"]):
            found.append(f"{where}: env {name} has a literal value")
        for key, value in node.items():
            child = f"{where}.{key}" if where else str(key)
            if isinstance(value, Mapping | list):
                if holds_secret(str(key)) and isinstance(value, list):
                    found += [
                        f"{child}: literal in a secret list"
                        for v in value
                        if not isinstance(v, Mapping | list) and _is_literal(v)
                    ]
                found += find_literal_secrets(value, child)
                continue
            if holds_secret(str(key)) and _is_literal(value):
                found.append(f"{child}: literal value")
            if isinstance(value, str):
                found += _scan_string(value, child)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += find_literal_secrets(item, f"{where}[{index}]")
    elif isinstance(node, str):
        found += _scan_string(node, where)
    return found


# --- S3 policies ----------------------------------------------------------------------------------

READ_ACTIONS = {"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"}


def bucket_arns(buckets: Iterable[str]) -> set[str]:
    """The ARNs of the buckets and of every object in them."""
    return {arn for b in buckets for arn in (f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*")}


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def policy_problems(policy: Mapping[str, Any], buckets: Collection[str]) -> list[str]:
    """Why a department policy grants more (or other) than reading exactly ``buckets``."""
    problems = []
    if policy.get("Version") != "2012-10-17":
        problems.append("Version must be 2012-10-17 (older versions disable policy variables)")
    allowed_resources = bucket_arns(buckets)
    granted: set[tuple[str, str]] = set()
    for statement in policy.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        if "NotResource" in statement or "NotAction" in statement:
            problems.append("NotResource/NotAction widen access")
        actions, resources = _listed(statement.get("Action", [])), _listed(statement.get("Resource", []))
        if extra := set(actions) - READ_ACTIONS:
            problems.append(f"actions beyond read: {sorted(extra)}")
        problems += [
            f"resource {r} is not one of {sorted(buckets)}" for r in resources if r not in allowed_resources
        ]
        granted |= {(a, r) for a in actions for r in resources}
    for bucket in buckets:
        needed = {("s3:ListBucket", f"arn:aws:s3:::{bucket}"), ("s3:GetObject", f"arn:aws:s3:::{bucket}/*")}
        if missing := needed - granted:
            problems.append(f"missing read access to {bucket}: {sorted(missing)}")
    return problems

"""The literal-secret scanner: it must catch each way a credential gets written into config, pass
each way of referencing one, and find nothing in the deployment files themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.infra.helpers import (
    COMPOSE_DIR,
    INFRA,
    compose_raw,
    find_literal_secrets,
    load_yaml_all,
    read_env_file,
)

LEAKS: dict[str, Any] = {
    "compose env mapping": {
        "services": {"minio": {"environment": {"MINIO_ROOT_PASSWORD": "hunter2hunter2"}}}
    },
    "compose env list": {"environment": ["POSTGRES_PASSWORD=hunter2hunter2"]},
    "literal default": {"environment": {"CITY_S3_SECRET_KEY": "${CITY_S3_SECRET_KEY:-hunter2hunter2}"}},
    "k8s env value": {"env": [{"name": "CITY_S3_SECRET_KEY", "value": "abc123abc123"}]},
    "helm value": {"postgresql": {"postgresqlPassword": "test"}},
    "number": {"marquez": {"api_key": 12345678}},
    "credentials in a URL": {"OPENLINEAGE_URL": "http://lineage:hunter2@marquez:5000"},
    "shell assignment": {"command": ["sh", "-c", "export PGPASSWORD=hunter2 && psql"]},
    "cli flag": {"args": ["--access-key=AKIAEXAMPLE", "--endpoint=minio:9000"]},
    "JSON inside a string": {"CTX": '{"docker": {"env_vars": ["CITY_S3_SECRET_KEY=abc123"]}}'},
    "secret list": {"passwords": ["one", "two"]},
    "k8s Secret manifest": {"kind": "Secret", "stringData": {"secretKey": "abc123abc123"}},
}

REFERENCES: dict[str, Any] = {
    "secret file": {"environment": {"MINIO_ROOT_PASSWORD_FILE": "/run/secrets/minio_root_password"}},
    "dagster env ref": {"postgres_db": {"password": {"env": "DAGSTER_PG_PASSWORD"}}},
    "secretKeyRef": {
        "env": [
            {
                "name": "CITY_S3_SECRET_KEY",
                "valueFrom": {"secretKeyRef": {"name": "city-s3", "key": "secretKey"}},
            }
        ]
    },
    "secret name": {
        "marquez": {"existingSecretName": "marquez-db"},
        "global": {"postgresqlSecretName": "pg"},
    },
    "required variable": {"environment": {"DB_PASSWORD": "${DB_PASSWORD:?set it}", "API_KEY": "${API_KEY}"}},
    "flag and empty": {"generatePostgresqlPasswordSecret": False, "postgresqlPassword": ""},
    "read from a file": {"entrypoint": ['export POSTGRES_PASSWORD="$$(cat /run/secrets/pw)" && exec x']},
    "plain URL": {"OPENLINEAGE_URL": "http://marquez-api:5000", "MINIO_URL": "https://minio:9000"},
    "service secret names": {"secrets": ["minio_root_password", "dagster_pg_password"]},
}


@pytest.mark.parametrize("sample", list(LEAKS.values()), ids=list(LEAKS))
def test_scanner_catches_a_literal_secret(sample: Any) -> None:
    assert find_literal_secrets(sample), f"not caught: {sample}"


@pytest.mark.parametrize("sample", list(REFERENCES.values()), ids=list(REFERENCES))
def test_scanner_accepts_a_reference(sample: Any) -> None:
    assert find_literal_secrets(sample) == []


def _config_files() -> list[Path]:
    files = [p for p in INFRA.rglob("*") if p.suffix in {".yaml", ".yml", ".json"}]
    assert len(files) >= 15, "infra files not found"
    return sorted(files)


@pytest.mark.parametrize("path", _config_files(), ids=lambda p: str(p.relative_to(INFRA)))
def test_no_literal_secret_in_deployment_files(path: Path) -> None:
    assert find_literal_secrets(load_yaml_all(path), path.name) == []


def test_no_literal_secret_in_compose_before_interpolation() -> None:
    # The raw file is what gets committed; ${VAR} references must still be references.
    assert find_literal_secrets(compose_raw()) == []


def test_env_example_holds_no_credential() -> None:
    env = read_env_file(COMPOSE_DIR / ".env.example")
    assert find_literal_secrets(env) == []
    assert find_literal_secrets({**env, "CITY_S3_SECRET_KEY": "hunter2hunter2"})  # the check can fail

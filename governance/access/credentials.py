"""Each department's own S3 keys, kept in a secrets file and never in code.

On a laptop (``CITY_MODE=dev``) missing keys are generated into the file (mode 0600) the first time
access is synced; in production the file must be provided, and a department without keys is an
error naming the file, because a generated secret nobody was given is an account nobody controls.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from cityplatform.settings import Settings, SettingsError, write_secret_file


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str


def access_key_of(department: str) -> str:
    """The department's user name on the object store (MinIO's bootstrap uses the same)."""
    return f"dept-{department.replace('_', '-')}"


def department_credentials(settings: Settings, departments: list[str]) -> dict[str, Credentials]:
    """Keys of every department in ``departments``, created in dev mode where missing."""
    path = settings.department_credentials_path
    try:
        stored = json.loads(path.read_text()) if path.exists() else {}
        known = {name: Credentials(**keys) for name, keys in stored.items()}
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"{path}: not a departments credentials file ({exc})") from exc
    missing = [d for d in departments if d not in known]
    if missing and settings.mode == "production":
        raise SettingsError(
            f"{path} has no S3 keys for {', '.join(missing)}: provide them "
            "(CITY_DEPARTMENT_CREDENTIALS_FILE); production never generates credentials."
        )
    if missing:
        for department in missing:
            known[department] = Credentials(access_key_of(department), secrets.token_urlsafe(24))
        write_secret_file(path, json.dumps({d: vars(c) for d, c in sorted(known.items())}, indent=2))
    return {d: known[d] for d in departments}

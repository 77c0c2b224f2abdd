"""Apply the grants current on a day to the embedded object store.

SeaweedFS scopes an identity's actions by bucket (``Read:marts-traffic``); a prefix inside a bucket
is not honoured by its simple config, which is why grants are by bucket. Each department gets one
identity that may read and list exactly the buckets its current grants name, and nothing else: no
write, no other bucket. A grant past its expiry is left out, so it stops working at the next sync.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from cityplatform.embedded_s3 import EmbeddedS3
from cityplatform.settings import Settings
from governance.access.credentials import Credentials, department_credentials
from governance.registry.grants import Grant, readable_buckets


def seaweedfs_identity(department: str, credentials: Credentials, buckets: list[str]) -> dict[str, object]:
    return {
        "name": credentials.access_key,
        "credentials": [{"accessKey": credentials.access_key, "secretKey": credentials.secret_key}],
        # An identity with no actions is denied everything, which is what a department with no
        # current grant must get.
        "actions": [f"{action}:{bucket}" for bucket in buckets for action in ("Read", "List")],
        "account": {"id": department, "displayName": department},
    }


@dataclass(frozen=True)
class AccessSync:
    day: date
    readable: dict[str, list[str]]  # department -> buckets it may read now
    credentials: dict[str, Credentials]
    restarted: bool


def sync_access(settings: Settings, grants: tuple[Grant, ...], day: date) -> AccessSync:
    """Write the department identities for ``day`` and restart the embedded server if they changed."""
    readable = readable_buckets(grants, day)
    credentials = department_credentials(settings, sorted(readable))
    identities = [
        seaweedfs_identity(department, credentials[department], buckets)
        for department, buckets in sorted(readable.items())
    ]
    restarted = EmbeddedS3.from_settings(settings).apply_identities(identities)
    return AccessSync(day, readable, credentials, restarted)

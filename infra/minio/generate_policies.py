"""Write the MinIO bucket list, department users and access policies from the governance registry.

Each department with a grant (current or expired) gets ``policies/department-<department>.json``,
one statement per grant reading exactly its buckets until the end of its expiry day in the city's
timezone: MinIO checks that date itself, so a grant stops working when it expires, without anyone
regenerating these files or re-running the bootstrap. ``department-users.txt`` pairs each of those
departments with its MinIO user, the same access key the platform gives it on the embedded S3
(``access_key_of``). A department without any grant gets neither: no user, nothing attached.
Also one read-write policy for the platform's own service account (which may never delete the
ownership ledger or the lineage archive), an upload-only policy and user per landing source
(``landing-users.txt``), and ``buckets.txt``.

The files are committed so a deployment never runs Python to get its policies; ``--check`` (and
the infra tests) fail when they have drifted from ``governance/registry`` (departments and grants).

    python infra/minio/generate_policies.py          # rewrite
    python infra/minio/generate_policies.py --check  # exit 1 if anything would change
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from cityplatform.layout import CCTV_PREFIX, LANDING_IOT_PREFIX
from cityplatform.objectstore import CORE_BUCKETS, LANDING, LINEAGE
from cityplatform.settings import load_settings
from governance.access.credentials import access_key_of
from governance.registry.departments import mart_buckets
from governance.registry.grants import Grant
from governance.registry.registry import load_registry

HERE = Path(__file__).resolve().parent
USERS_FILE = "department-users.txt"
POLICY_VERSION = "2012-10-17"
# Read access needs the bucket listing too; GetBucketLocation is what S3 SDKs call before anything
# else when no region is configured (boto3, DuckDB httpfs), so without it a read-only client fails.
# One statement per grant holds both kinds of ARN: MinIO matches each action against the ARNs of its
# kind (its built-in readonly policy is written the same way), and the grant keeps a single Sid.
DEPARTMENT_ACTIONS = ("s3:GetBucketLocation", "s3:ListBucket", "s3:GetObject")
# The platform writes every layer but never creates or deletes buckets: that is the bootstrap job's
# (and an operator's) decision, so a bug in asset code cannot drop a department's bucket.
PLATFORM_BUCKET_ACTIONS = (
    "s3:GetBucketLocation",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:ListBucketVersions",
)
# Versions too: every bucket is versioned, and retention must erase every version of what expires.
PLATFORM_OBJECT_ACTIONS = (
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
)
# The audit trail outlives the platform's own key: the ownership ledger and the lineage archive can
# be appended to but never deleted (an explicit Deny wins over every Allow), so a compromised or
# buggy run cannot erase who owned what or where data went. Only the root account can.
PLATFORM_DENIED_DELETES = ("s3:DeleteObject", "s3:DeleteObjectVersion")
# A city feed gets an upload-only key for its own landing folder: it cannot read, list, overwrite
# history of (versioning keeps it) or delete anything, nor reach another source's folder.
LANDING_SOURCES = {"iot": LANDING_IOT_PREFIX, "cctv": CCTV_PREFIX}
LANDING_USERS_FILE = "landing-users.txt"


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def expiry_cutoff(expires_on: date, timezone: str) -> str:
    """The first instant after a grant's last valid (city-local) day, in UTC as MinIO compares it."""
    next_midnight = datetime.combine(expires_on + timedelta(days=1), time(), tzinfo=ZoneInfo(timezone))
    return next_midnight.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def statement_id(grant: Grant) -> str:
    """Readable and stable under reordering the registry: ``ReadMartsTrafficUntil20271231``."""
    names = "".join(part.capitalize() for bucket in sorted(grant.buckets) for part in bucket.split("-"))
    return f"Read{names}Until{grant.expires_on:%Y%m%d}"


def grant_statement(grant: Grant, timezone: str) -> dict[str, object]:
    buckets = sorted(grant.buckets)
    return {
        "Sid": statement_id(grant),
        "Effect": "Allow",
        "Action": list(DEPARTMENT_ACTIONS),
        "Resource": [bucket_arn(b) for b in buckets] + [f"{bucket_arn(b)}/*" for b in buckets],
        "Condition": {"DateLessThan": {"aws:CurrentTime": expiry_cutoff(grant.expires_on, timezone)}},
    }


def department_policies(grants: Iterable[Grant], timezone: str) -> dict[str, dict[str, object]]:
    """Department -> its policy, for every department with a grant, current or expired.

    Expired grants stay in (MinIO refuses them by date) so the files do not change with the calendar.
    Grants with the same buckets and expiry share a Sid and give one statement: MinIO rejects a
    policy with duplicate statements.
    """
    statements: dict[str, dict[str, dict[str, object]]] = {}
    for grant in grants:
        statements.setdefault(grant.department, {})[statement_id(grant)] = grant_statement(grant, timezone)
    return {
        department: {"Version": POLICY_VERSION, "Statement": list(by_sid.values())}
        for department, by_sid in sorted(statements.items())
    }


def audit_trail_arns() -> list[str]:
    """The ownership ledger's prefix (from the settings) and the whole lineage bucket."""
    ledger = load_settings().ownership_ledger.removeprefix("s3://")
    return [f"{bucket_arn(ledger)}*", f"{bucket_arn(LINEAGE)}/*"]


def platform_policy(buckets: list[str]) -> dict[str, object]:
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "ListPlatformBuckets",
                "Effect": "Allow",
                "Action": list(PLATFORM_BUCKET_ACTIONS),
                "Resource": [bucket_arn(b) for b in buckets],
            },
            {
                "Sid": "ReadWritePlatformObjects",
                "Effect": "Allow",
                "Action": list(PLATFORM_OBJECT_ACTIONS),
                "Resource": [f"{bucket_arn(b)}/*" for b in buckets],
            },
            {
                "Sid": "NeverDeleteTheAuditTrail",
                "Effect": "Deny",
                "Action": list(PLATFORM_DENIED_DELETES),
                "Resource": audit_trail_arns(),
            },
        ],
    }


def landing_policy(prefix: str) -> dict[str, object]:
    """Upload-only access to one folder of the landing bucket."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "UploadOnly",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": [f"{bucket_arn(LANDING)}/{prefix}*"],
            }
        ],
    }


def landing_user(source: str) -> str:
    return f"landing-{source}"


def render(grants: Iterable[Grant], timezone: str) -> dict[str, str]:
    """Relative path under infra/minio -> file content, for every generated file."""
    buckets = [*CORE_BUCKETS, *mart_buckets()]
    policies = department_policies(grants, timezone)
    files = {f"policies/department-{d}.json": _json(policy) for d, policy in policies.items()}
    files["policies/platform-readwrite.json"] = _json(platform_policy(buckets))
    for source, prefix in LANDING_SOURCES.items():
        files[f"policies/landing-{source}.json"] = _json(landing_policy(prefix))
    files[LANDING_USERS_FILE] = "".join(f"{s} {landing_user(s)}\n" for s in LANDING_SOURCES)
    files["buckets.txt"] = "".join(f"{b}\n" for b in buckets)
    files[USERS_FILE] = "".join(f"{d} {access_key_of(d)}\n" for d in policies)
    return files


def render_registry() -> dict[str, str]:
    """The files as committed: the registry's grants, expiring in the platform's timezone."""
    return render(load_registry().grants, load_settings().timezone)


def _json(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2) + "\n"


def stale_files(root: Path, files: dict[str, str]) -> list[str]:
    """Generated files that are missing or differ, and policy files nothing generates any more."""
    stale = [rel for rel, text in files.items() if _read(root / rel) != text]
    stale += sorted(
        f"policies/{p.name} (not generated: remove it)"
        for p in (root / "policies").glob("*.json")
        if f"policies/{p.name}" not in files
    )
    return stale


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift instead of writing")
    args = parser.parse_args(argv)
    files = render_registry()
    stale = stale_files(HERE, files)
    if args.check:
        for rel in stale:
            print(f"out of date: infra/minio/{rel}", file=sys.stderr)
        return 1 if stale else 0
    for rel, text in files.items():
        (HERE / rel).parent.mkdir(parents=True, exist_ok=True)
        (HERE / rel).write_text(text)
    for orphan in (HERE / "policies").glob("*.json"):
        if f"policies/{orphan.name}" not in files:
            orphan.unlink()
    print(f"wrote {len(files)} files under {HERE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

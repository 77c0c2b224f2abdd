"""Write the MinIO bucket list and access policies from the governance registry.

One read-only policy per department bucket (``marts-<suffix>-read.json``), one read-write policy for
the platform's own service account, and ``buckets.txt`` for the bootstrap job. The files are
committed so a deployment never runs Python to get its policies; ``--check`` (and the infra tests)
fail when they have drifted from ``governance/registry/departments.yaml``.

    python infra/minio/generate_policies.py          # rewrite
    python infra/minio/generate_policies.py --check  # exit 1 if anything would change
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cityplatform.objectstore import CORE_BUCKETS
from governance.registry.departments import REGISTRY_FILE, load_departments

HERE = Path(__file__).resolve().parent
POLICY_VERSION = "2012-10-17"
# Read access needs the bucket listing too; GetBucketLocation is what S3 SDKs call before anything
# else when no region is configured (boto3, DuckDB httpfs), so without it a read-only client fails.
DEPARTMENT_BUCKET_ACTIONS = ("s3:GetBucketLocation", "s3:ListBucket")
DEPARTMENT_OBJECT_ACTIONS = ("s3:GetObject",)
# The platform writes every layer but never creates or deletes buckets: that is the bootstrap job's
# (and an operator's) decision, so a bug in asset code cannot drop a department's bucket.
PLATFORM_BUCKET_ACTIONS = ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads")
PLATFORM_OBJECT_ACTIONS = (
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:GetObject",
    "s3:ListMultipartUploadParts",
    "s3:PutObject",
)


def bucket_arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def department_policy(bucket: str) -> dict[str, object]:
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "ListOwnMartsBucket",
                "Effect": "Allow",
                "Action": list(DEPARTMENT_BUCKET_ACTIONS),
                "Resource": [bucket_arn(bucket)],
            },
            {
                "Sid": "ReadOwnMarts",
                "Effect": "Allow",
                "Action": list(DEPARTMENT_OBJECT_ACTIONS),
                "Resource": [f"{bucket_arn(bucket)}/*"],
            },
        ],
    }


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
        ],
    }


def render(registry: Path = REGISTRY_FILE) -> dict[str, str]:
    """Relative path under infra/minio -> file content, for every generated file."""
    marts = [d.bucket for d in load_departments(registry)]
    buckets = [*CORE_BUCKETS, *marts]
    files = {f"policies/{b}-read.json": _json(department_policy(b)) for b in marts}
    files["policies/platform-readwrite.json"] = _json(platform_policy(buckets))
    files["buckets.txt"] = "".join(f"{b}\n" for b in buckets)
    return files


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
    files = render()
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

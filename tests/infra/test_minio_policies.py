"""Department access policies and the bootstrap script that applies them."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from cityplatform.objectstore import CORE_BUCKETS
from tests.infra.helpers import INFRA, department_suffixes, policy_problems

MINIO = INFRA / "minio"
POLICIES = MINIO / "policies"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_policies", MINIO / "generate_policies.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def policy(name: str) -> dict[str, object]:
    return json.loads((POLICIES / name).read_text())


def test_every_department_has_exactly_one_read_policy() -> None:
    expected = {f"marts-{suffix}-read.json" for suffix in department_suffixes()}
    present = {p.name for p in POLICIES.glob("marts-*-read.json")}
    assert present == expected


@pytest.mark.parametrize("suffix", department_suffixes())
def test_department_policy_reads_only_its_own_bucket(suffix: str) -> None:
    assert policy_problems(policy(f"marts-{suffix}-read.json"), f"marts-{suffix}") == []


def test_policy_check_rejects_wider_access() -> None:
    good = policy(f"marts-{department_suffixes()[0]}-read.json")
    bucket = f"marts-{department_suffixes()[0]}"
    assert policy_problems(good, "marts-other")  # another department's bucket
    wildcard = {
        **good,
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::*"]}],
    }
    assert any("arn:aws:s3:::*" in p for p in policy_problems(wildcard, bucket))
    writer = {
        **good,
        "Statement": [
            *good["Statement"],
            {  # type: ignore[list-item]
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/*"],
            },
        ],
    }
    assert any("beyond read" in p for p in policy_problems(writer, bucket))
    assert any("missing" in p for p in policy_problems({"Version": "2012-10-17", "Statement": []}, bucket))


def test_committed_files_match_the_registry() -> None:
    gen = generator()
    assert gen.stale_files(MINIO, gen.render()) == [], "run: python infra/minio/generate_policies.py"


def test_drift_is_reported(tmp_path: Path) -> None:
    gen = generator()
    files = gen.render()
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    (tmp_path / "policies" / "marts-retired-read.json").write_text("{}")
    (tmp_path / "buckets.txt").write_text("landing\n")
    assert gen.stale_files(tmp_path, files) == [
        "buckets.txt",
        "policies/marts-retired-read.json (not generated: remove it)",
    ]


def test_platform_policy_and_bucket_list_cover_every_bucket() -> None:
    buckets = (MINIO / "buckets.txt").read_text().split()
    assert buckets == [*CORE_BUCKETS, *(f"marts-{s}" for s in department_suffixes())]
    statements = policy("platform-readwrite.json")["Statement"]
    resources = {r for s in statements for r in s["Resource"]}  # type: ignore[attr-defined]
    assert resources == {f"arn:aws:s3:::{b}" for b in buckets} | {f"arn:aws:s3:::{b}/*" for b in buckets}
    actions = {a for s in statements for a in s["Action"]}  # type: ignore[attr-defined]
    assert not actions & {"s3:*", "s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketPolicy"}


# --- bootstrap.sh, run with a recording stand-in for `mc` (no MinIO server can run here) ---------

FAKE_MC = """#!/bin/sh
echo "$*" >> "$MC_LOG"
case "$*" in
  "admin policy attach"*) echo "mc: The specified policy change is already in effect." >&2; exit 1 ;;
esac
"""


@pytest.fixture
def bootstrap_env(tmp_path: Path) -> dict[str, str]:
    bin_dir, secrets = tmp_path / "bin", tmp_path / "secrets"
    bin_dir.mkdir()
    secrets.mkdir()
    mc = bin_dir / "mc"
    mc.write_text(FAKE_MC)
    mc.chmod(mc.stat().st_mode | stat.S_IEXEC)
    names = ["minio_root_user", "minio_root_password", "platform_s3_access_key", "platform_s3_secret_key"]
    names += [f"dept_{suffix}_secret_key" for suffix in department_suffixes()]
    for name in names:
        (secrets / name).write_text(f"value-of-{name}\n")
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "MC_LOG": str(tmp_path / "mc.log"),
        "MINIO_URL": "https://minio:9000",
        "BOOTSTRAP_DIR": str(MINIO),
        "SECRETS_DIR": str(secrets),
    }


def run_bootstrap(env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    result = subprocess.run(
        ["sh", str(MINIO / "bootstrap.sh")], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    log = Path(env["MC_LOG"])
    return result, log.read_text().splitlines() if log.exists() else []


def test_bootstrap_creates_buckets_users_and_policies(bootstrap_env: dict[str, str]) -> None:
    result, calls = run_bootstrap(bootstrap_env)
    assert result.returncode == 0, result.stderr
    assert (
        calls[0] == "alias set city https://minio:9000 value-of-minio_root_user value-of-minio_root_password"
    )
    for bucket in (MINIO / "buckets.txt").read_text().split():
        assert f"mb --ignore-existing city/{bucket}" in calls
        assert f"version enable city/{bucket}" in calls
    assert "admin user add city value-of-platform_s3_access_key value-of-platform_s3_secret_key" in calls
    for suffix in department_suffixes():
        assert (
            f"admin policy create city marts-{suffix}-read {MINIO}/policies/marts-{suffix}-read.json" in calls
        )
        assert f"admin user add city dept-{suffix} value-of-dept_{suffix}_secret_key" in calls
        assert f"admin policy attach city marts-{suffix}-read --user dept-{suffix}" in calls
    assert f"{len(department_suffixes())} department users" in result.stdout


def test_bootstrap_changes_nothing_when_a_secret_is_missing(bootstrap_env: dict[str, str]) -> None:
    suffix = department_suffixes()[-1]
    Path(bootstrap_env["SECRETS_DIR"], f"dept_{suffix}_secret_key").unlink()
    result, calls = run_bootstrap(bootstrap_env)
    assert result.returncode != 0
    assert f"dept_{suffix}_secret_key" in result.stderr
    assert calls == []


def test_bootstrap_reports_a_real_attach_failure(bootstrap_env: dict[str, str]) -> None:
    mc = Path(bootstrap_env["PATH"].split(os.pathsep)[0], "mc")
    mc.write_text(FAKE_MC.replace("The specified policy change is already in effect.", "Access Denied."))
    result, _ = run_bootstrap(bootstrap_env)
    assert result.returncode != 0 and "Access Denied" in result.stderr


def test_bootstrap_reads_root_credentials_from_operator_config(
    bootstrap_env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "config.env"
    config.write_text('export MINIO_ROOT_USER="operator-root"\nexport MINIO_ROOT_PASSWORD="operator-pw"\n')
    for name in ("minio_root_user", "minio_root_password"):
        Path(bootstrap_env["SECRETS_DIR"], name).unlink()
    result, calls = run_bootstrap({**bootstrap_env, "MINIO_CONFIG_ENV_FILE": str(config)})
    assert result.returncode == 0, result.stderr
    assert calls[0] == "alias set city https://minio:9000 operator-root operator-pw"


def test_bootstrap_accepts_the_flat_configmap_layout(bootstrap_env: dict[str, str], tmp_path: Path) -> None:
    # `kubectl create configmap --from-file` puts the script, buckets.txt and policies side by side.
    flat = tmp_path / "configmap"
    flat.mkdir()
    for source in [MINIO / "bootstrap.sh", MINIO / "buckets.txt", *POLICIES.glob("*.json")]:
        (flat / source.name).write_text(source.read_text())
    result, calls = run_bootstrap({**bootstrap_env, "BOOTSTRAP_DIR": str(flat)})
    assert result.returncode == 0, result.stderr
    suffix = department_suffixes()[0]
    assert f"admin policy create city marts-{suffix}-read {flat}/marts-{suffix}-read.json" in calls

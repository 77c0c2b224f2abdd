"""Department access policies generated from the grants registry, and the bootstrap that applies them."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import subprocess
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cityplatform.objectstore import CORE_BUCKETS
from cityplatform.settings import load_settings
from governance.access.credentials import access_key_of
from governance.registry.grants import Grant
from governance.registry.registry import load_registry
from tests.infra.helpers import INFRA, bucket_arns, department_suffixes, policy_problems

MINIO = INFRA / "minio"
POLICIES = MINIO / "policies"
USERS = MINIO / "department-users.txt"
FEEDS = MINIO / "landing-users.txt"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_policies", MINIO / "generate_policies.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def policy(name: str) -> dict[str, Any]:
    return json.loads((POLICIES / name).read_text())


def grants_by_department() -> dict[str, list[Grant]]:
    """Every grant in the registry, current or expired, by department."""
    grants: dict[str, list[Grant]] = {}
    for grant in load_registry().grants:
        grants.setdefault(grant.department, []).append(grant)
    return grants


def test_every_department_with_a_grant_has_exactly_one_policy() -> None:
    present = {p.name for p in POLICIES.glob("*.json")}
    expected = {f"department-{d}.json" for d in grants_by_department()}
    assert present == expected | {"platform-readwrite.json", "landing-iot.json", "landing-cctv.json"}


def test_department_users_are_the_platform_access_keys() -> None:
    lines = USERS.read_text().splitlines()
    assert lines == [f"{d} {access_key_of(d)}" for d in sorted(grants_by_department())]


@pytest.mark.parametrize("department", sorted(grants_by_department()))
def test_department_policy_reads_exactly_its_granted_buckets(department: str) -> None:
    grants = grants_by_department()[department]
    document = policy(f"department-{department}.json")
    assert policy_problems(document, {b for g in grants for b in g.buckets}) == []
    statements = {s["Sid"]: s for s in document["Statement"]}
    sids = {generator().statement_id(g) for g in grants}
    assert set(statements) == sids and len(document["Statement"]) == len(sids)
    timezone = ZoneInfo(load_settings().timezone)
    for grant in grants:
        statement = statements[generator().statement_id(grant)]
        assert set(statement["Resource"]) == bucket_arns(grant.buckets)
        assert list(statement["Condition"]) == ["DateLessThan"]
        cutoff = datetime.fromisoformat(statement["Condition"]["DateLessThan"]["aws:CurrentTime"])
        # Valid through the expiry day in the city, gone at its next midnight.
        assert cutoff.astimezone(timezone) == datetime.combine(
            grant.expires_on + timedelta(days=1), time(), tzinfo=timezone
        )


def test_expiry_is_the_end_of_the_city_local_day_in_utc() -> None:
    gen = generator()
    ended = Grant(
        department="public_safety",
        buckets=("marts-traffic",),
        purpose="event-day crowd study (ended)",
        approved_by="S-003",
        expires_on=date(2026, 10, 31),
    )
    # 2026-11-01 00:00 in Seoul (UTC+9, no daylight saving) is 2026-10-31 15:00 UTC.
    assert gen.grant_statement(ended, "Asia/Seoul") == {
        "Sid": "ReadMartsTrafficUntil20261031",
        "Effect": "Allow",
        "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:GetObject"],
        "Resource": ["arn:aws:s3:::marts-traffic", "arn:aws:s3:::marts-traffic/*"],
        "Condition": {"DateLessThan": {"aws:CurrentTime": "2026-10-31T15:00:00Z"}},
    }
    # Not a fixed offset: New York midnight is 05:00 UTC in winter, 04:00 in summer.
    assert gen.expiry_cutoff(date(2027, 3, 13), "America/New_York") == "2027-03-14T05:00:00Z"
    assert gen.expiry_cutoff(date(2027, 7, 1), "America/New_York") == "2027-07-02T04:00:00Z"


def test_grants_for_the_same_buckets_and_day_give_one_statement() -> None:
    # MinIO refuses a policy with two identical statements.
    first = Grant(
        department="traffic",
        buckets=("marts-traffic", "marts-safety"),
        purpose="signal timing",
        approved_by="S-003",
        expires_on=date(2027, 6, 30),
    )
    second = first.model_copy(update={"buckets": ("marts-safety", "marts-traffic"), "purpose": "audit"})
    statements = generator().department_policies([first, second], "Asia/Seoul")["traffic"]["Statement"]
    assert [s["Sid"] for s in statements] == ["ReadMartsSafetyMartsTrafficUntil20270630"]


def test_a_department_without_grants_gets_no_policy_and_no_user() -> None:
    gen = generator()
    left_out = sorted(grants_by_department())[0]
    files = gen.render([g for g in load_registry().grants if g.department != left_out], "Asia/Seoul")
    assert f"policies/department-{left_out}.json" not in files
    assert left_out not in files["department-users.txt"].split()


def test_policy_check_rejects_wider_access() -> None:
    department, grants = next(iter(grants_by_department().items()))
    good = policy(f"department-{department}.json")
    buckets = {b for g in grants for b in g.buckets}
    bucket = sorted(buckets)[0]
    assert policy_problems(good, {"marts-other"})  # another department's bucket
    assert any("missing" in p for p in policy_problems(good, buckets | {"marts-other"}))
    wildcard = {
        **good,
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::*"]}],
    }
    assert any("arn:aws:s3:::*" in p for p in policy_problems(wildcard, buckets))
    writer = {
        **good,
        "Statement": [
            *good["Statement"],
            {"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": [f"arn:aws:s3:::{bucket}/*"]},
        ],
    }
    assert any("beyond read" in p for p in policy_problems(writer, buckets))
    assert any("missing" in p for p in policy_problems({"Version": "2012-10-17", "Statement": []}, buckets))


def test_committed_files_match_the_registry() -> None:
    gen = generator()
    assert gen.stale_files(MINIO, gen.render_registry()) == [], "run: python infra/minio/generate_policies.py"


def test_drift_is_reported(tmp_path: Path) -> None:
    gen = generator()
    files = gen.render_registry()
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    (tmp_path / "policies" / "marts-traffic-read.json").write_text("{}")  # the old per-bucket layout
    (tmp_path / "buckets.txt").write_text("landing\n")
    department = sorted(grants_by_department())[0]
    (tmp_path / "policies" / f"department-{department}.json").unlink()
    assert gen.stale_files(tmp_path, files) == [
        f"policies/department-{department}.json",
        "buckets.txt",
        "policies/marts-traffic-read.json (not generated: remove it)",
    ]


def test_platform_policy_and_bucket_list_cover_every_bucket() -> None:
    buckets = (MINIO / "buckets.txt").read_text().split()
    assert buckets == [*CORE_BUCKETS, *(f"marts-{s}" for s in department_suffixes())]
    statements = [s for s in policy("platform-readwrite.json")["Statement"] if s["Effect"] == "Allow"]
    resources = {r for s in statements for r in s["Resource"]}
    assert resources == bucket_arns(buckets)
    actions = {a for s in statements for a in s["Action"]}
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
    names += [f"dept_{department}_secret_key" for department in grants_by_department()]
    names += [f"landing_{line.split()[0]}_secret_key" for line in FEEDS.read_text().splitlines()]
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


def flat_copy(directory: Path) -> Path:
    """The layout of `kubectl create configmap --from-file`: script, lists and policies side by side."""
    directory.mkdir()
    lists = [MINIO / "buckets.txt", USERS, FEEDS, MINIO / "lifecycle-noncurrent.json"]
    for source in [MINIO / "bootstrap.sh", *lists, *POLICIES.glob("*.json")]:
        (directory / source.name).write_text(source.read_text())
    return directory


def test_bootstrap_creates_buckets_users_and_policies(bootstrap_env: dict[str, str]) -> None:
    result, calls = run_bootstrap(bootstrap_env)
    assert result.returncode == 0, result.stderr
    assert (
        calls[0] == "alias set city https://minio:9000 value-of-minio_root_user value-of-minio_root_password"
    )
    for bucket in (MINIO / "buckets.txt").read_text().split():
        assert f"mb --ignore-existing city/{bucket}" in calls
        assert f"version enable city/{bucket}" in calls
        # noncurrent versions expire everywhere but in the audit trail
        assert (f"ilm import city/{bucket}" in calls) == (bucket not in {"governance", "lineage"})
    assert "admin user add city value-of-platform_s3_access_key value-of-platform_s3_secret_key" in calls
    for department in grants_by_department():
        user = access_key_of(department)
        assert (
            f"admin policy create city department-{department} {POLICIES}/department-{department}.json"
            in calls
        )
        assert f"admin user add city {user} value-of-dept_{department}_secret_key" in calls
        assert f"admin policy attach city department-{department} --user {user}" in calls
    for source, user in (line.split() for line in FEEDS.read_text().splitlines()):
        assert f"admin policy create city landing-{source} {POLICIES}/landing-{source}.json" in calls
        assert f"admin user add city {user} value-of-landing_{source}_secret_key" in calls
        assert f"admin policy attach city landing-{source} --user {user}" in calls
    attached = len(grants_by_department()) + 1 + len(FEEDS.read_text().splitlines())
    assert sum(call.startswith("admin policy attach") for call in calls) == attached
    assert f"{len(grants_by_department())} department users" in result.stdout


def test_bootstrap_changes_nothing_when_a_secret_is_missing(bootstrap_env: dict[str, str]) -> None:
    department = sorted(grants_by_department())[-1]
    Path(bootstrap_env["SECRETS_DIR"], f"dept_{department}_secret_key").unlink()
    result, calls = run_bootstrap(bootstrap_env)
    assert result.returncode != 0
    assert f"dept_{department}_secret_key" in result.stderr
    assert calls == []


def test_bootstrap_changes_nothing_when_a_listed_policy_is_missing(
    bootstrap_env: dict[str, str], tmp_path: Path
) -> None:
    flat = flat_copy(tmp_path / "configmap")
    department = sorted(grants_by_department())[0]
    (flat / f"department-{department}.json").unlink()
    result, calls = run_bootstrap({**bootstrap_env, "BOOTSTRAP_DIR": str(flat)})
    assert result.returncode != 0 and f"department-{department}.json" in result.stderr
    assert calls == []


def test_bootstrap_attaches_nothing_for_a_department_without_grants(
    bootstrap_env: dict[str, str], tmp_path: Path
) -> None:
    flat = flat_copy(tmp_path / "configmap")
    left_out = sorted(grants_by_department())[0]
    files = generator().render([g for g in load_registry().grants if g.department != left_out], "Asia/Seoul")
    (flat / "department-users.txt").write_text(files["department-users.txt"])
    (flat / f"department-{left_out}.json").unlink()
    Path(bootstrap_env["SECRETS_DIR"], f"dept_{left_out}_secret_key").unlink()  # and needs no secret
    result, calls = run_bootstrap({**bootstrap_env, "BOOTSTRAP_DIR": str(flat)})
    assert result.returncode == 0, result.stderr
    names = {f"department-{left_out}", access_key_of(left_out)}
    assert not [call for call in calls if names & set(call.split())]
    assert f"{len(grants_by_department()) - 1} department users" in result.stdout


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
    flat = flat_copy(tmp_path / "configmap")
    result, calls = run_bootstrap({**bootstrap_env, "BOOTSTRAP_DIR": str(flat)})
    assert result.returncode == 0, result.stderr
    department = sorted(grants_by_department())[0]
    assert f"admin policy create city department-{department} {flat}/department-{department}.json" in calls
    assert f"admin policy attach city department-{department} --user {access_key_of(department)}" in calls

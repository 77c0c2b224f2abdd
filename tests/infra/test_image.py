"""The platform image: Dockerfile, build context and the entrypoint that turns secret files into env."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.infra.helpers import INFRA, REPO, pyproject

ENTRYPOINT = INFRA / "docker" / "entrypoint.sh"


def dockerfile() -> str:
    """The Dockerfile with continuation lines joined."""
    return re.sub(r"\\\n\s*", " ", (REPO / "Dockerfile").read_text())


def final_stage() -> str:
    return dockerfile().rsplit("\nFROM ", 1)[1]


def test_base_image_is_pinned_python_311_slim() -> None:
    (base,) = re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile(), re.M)
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?", base)
    assert all(
        line.split()[1].startswith("${PYTHON_IMAGE}") for line in re.findall(r"^FROM .+$", dockerfile(), re.M)
    )


def test_runs_as_a_non_root_user() -> None:
    users = re.findall(r"^USER (\S+)$", final_stage(), re.M)
    assert users and users[-1].split(":")[0] not in {"root", "0"}


def test_installs_the_project_with_its_pinned_production_extra() -> None:
    install = re.search(r"pip install [^\n]*", dockerfile())
    assert install and '--editable ".[production]"' in install.group(0)
    extra = {r.split("==")[0]: r for r in pyproject()["project"]["optional-dependencies"]["production"]}
    assert {"dagster-postgres", "psycopg2-binary", "dagster-docker", "dagster-k8s"} <= set(extra)
    assert [r for r in extra.values() if "==" not in r] == [], "a fresh image must resolve the same way"
    for package in installed_packages():
        assert re.search(rf"^COPY {package} ", dockerfile(), re.M), f"{package} not copied"


def installed_packages() -> list[str]:
    """The top-level packages pyproject.toml installs: the image must copy every one."""
    return [name.rstrip("*") for name in pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]]


def test_source_tree_keeps_dbt_project_beside_the_packages() -> None:
    # orchestration locates dbt_project/ relative to its own package, so the install is editable
    # and the runtime image keeps the build's source tree at the same path.
    build_stage = dockerfile().split("\nFROM ")[1]
    (workdir,) = re.findall(r"^WORKDIR (\S+)$", build_stage, re.M)
    assert '--editable ".[production]"' in build_stage
    assert f"COPY --from=build {workdir} {workdir}" in final_stage()
    assert re.search(rf"^COPY --chown=city:city dbt_project {workdir}/dbt_project$", final_stage(), re.M)
    assert re.findall(r"^WORKDIR (\S+)$", final_stage(), re.M)[-1] == workdir


def test_default_command_serves_the_code_location() -> None:
    cmd = re.search(r"^CMD \[(.+?)\]$", final_stage(), re.M | re.S)
    assert cmd
    words = re.findall(r'"([^"]+)"', cmd.group(1))
    assert words[:3] == ["dagster", "api", "grpc"]
    assert words[words.index("--module-name") + 1] == "orchestration.definitions"
    assert f"EXPOSE {words[words.index('--port') + 1]}" in final_stage()


def test_entrypoint_is_copied_from_the_repository() -> None:
    (source, target) = re.search(r"^COPY (?:--chmod=\d+ )?(infra/\S+) (\S+)$", dockerfile(), re.M).groups()  # type: ignore[union-attr]
    assert (REPO / source).is_file()
    assert target in re.search(r"^ENTRYPOINT (.+)$", final_stage(), re.M).group(1)  # type: ignore[union-attr]


def test_build_context_leaves_out_state_and_secrets() -> None:
    ignored = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", ".city", ".env", "**/secrets"} <= ignored
    assert "!infra/docker/entrypoint.sh" in ignored, "the entrypoint must stay in the context"
    assert not ignored & {"README.md", "pyproject.toml", "dbt_project", "orchestration"}


def run_entrypoint(env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *command],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )


def test_entrypoint_exports_secret_files(tmp_path: Path) -> None:
    (tmp_path / "pg").write_text("pg-secret\n")
    (tmp_path / "key").write_text("platform-user")
    result = run_entrypoint(
        {
            "DAGSTER_PG_PASSWORD_FILE": str(tmp_path / "pg"),
            "CITY_S3_ACCESS_KEY_FILE": str(tmp_path / "key"),
            "CITY_S3_SECRET_KEY_FILE": "/run/secrets/left-alone",
        },
        "sh",
        "-c",
        'echo "$DAGSTER_PG_PASSWORD|$CITY_S3_ACCESS_KEY|'
        '${DAGSTER_PG_PASSWORD_FILE:-unset}|$CITY_S3_SECRET_KEY_FILE"',
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pg-secret|platform-user|unset|/run/secrets/left-alone"


def test_entrypoint_refuses_a_missing_file_or_two_sources(tmp_path: Path) -> None:
    missing = run_entrypoint({"DAGSTER_PG_PASSWORD_FILE": str(tmp_path / "nope")}, "true")
    assert missing.returncode != 0 and "DAGSTER_PG_PASSWORD_FILE" in missing.stderr
    (tmp_path / "pg").write_text("x")
    both = run_entrypoint(
        {"DAGSTER_PG_PASSWORD_FILE": str(tmp_path / "pg"), "DAGSTER_PG_PASSWORD": "y"}, "true"
    )
    assert both.returncode != 0 and "set only one" in both.stderr


def test_entrypoint_refuses_a_pool_limit_that_is_not_pool_equals_number() -> None:
    # Valid limits are set on a real instance by the production tests (the daemon starts through it).
    for entry in ("vision", "=2", "vision=", "vision=two", "a=b=1"):
        result = run_entrypoint({"CITY_POOL_LIMITS": entry}, "true")
        assert result.returncode == 64, entry
        assert f"CITY_POOL_LIMITS entry '{entry}'" in result.stderr


def test_entrypoint_passes_arguments_through() -> None:
    result = run_entrypoint({}, "printf", "%s|", "a b", "--flag=1")
    assert result.returncode == 0 and result.stdout == "a b|--flag=1|"

"""The compose target: what it runs, how it is wired, and that its credentials stay references."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest

from tests.infra.helpers import (
    COMPOSE_DIR,
    INFRA,
    MissingVariable,
    compose,
    compose_raw,
    department_ids,
    environment,
    image_problem,
    interpolate,
    load_yaml,
    pyproject,
    read_env_file,
    variables_used,
)

# What the README's port table documents: service -> {(host ip, host port, container port)}.
PUBLISHED = {
    "minio": {("", 9000, 9000), ("127.0.0.1", 9001, 9001)},
    "ui-proxy": {("", 3443, 3443), ("", 3444, 3444)},
    "marquez": {("127.0.0.1", 5000, 5000)},
}
ONE_SHOT = {"minio-init", "vision-worker"}


def services() -> dict[str, Any]:
    return compose()["services"]


def minio_nodes() -> dict[str, Any]:
    return {n: s for n, s in services().items() if s["image"].startswith("quay.io/minio/minio:")}


def expand_braces(text: str) -> list[str]:
    """MinIO's ellipsis notation: https://minio{1...4}:9000/data{1...2} -> every combination."""
    parts = re.split(r"\{(\d+)\.\.\.(\d+)\}", text)
    literals, ranges = (
        parts[::3],
        [range(int(a), int(b) + 1) for a, b in zip(parts[1::3], parts[2::3], strict=True)],
    )
    return [
        "".join(itertools.chain.from_iterable(zip(literals, [*map(str, combo), ""], strict=True)))
        for combo in itertools.product(*ranges)
    ]


def test_interpolation_follows_compose_rules() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET}-${UNSET:-d}-${EMPTY:-e}-${EMPTY-f}-$$HOME-$SET", env) == "x-d-e--$HOME-x"
    with pytest.raises(MissingVariable):
        interpolate("${UNSET:?required}", env)


def test_env_example_defines_every_variable_compose_uses() -> None:
    documented = read_env_file(COMPOSE_DIR / ".env.example")
    assert variables_used(compose_raw()) - set(documented) == set()
    assert documented["CITY_VERSION"] == pyproject()["project"]["version"]
    assert documented["CITY_SECRETS_DIR"].startswith("/") and documented["CITY_TLS_DIR"].startswith("/")


def test_every_image_is_pinned() -> None:
    images = {name: service["image"] for name, service in services().items()}
    assert [p for p in map(image_problem, images.values()) if p] == []
    assert image_problem("nginx") and image_problem("nginx:latest") and image_problem("minio/minio:stable")


def test_platform_images_are_built_from_this_repository() -> None:
    version = pyproject()["project"]["version"]
    for name in ("dagster-code", "dagster-webserver", "dagster-daemon"):
        assert services()[name]["image"] == f"city-platform:{version}"
        assert (COMPOSE_DIR / services()[name]["build"]["context"] / "Dockerfile").is_file()
    vision = services()["vision-worker"]
    assert vision["image"] == f"city-platform-gpu:{version}"
    assert "TORCH_INDEX_URL" in vision["build"]["args"]


def test_minio_is_distributed_with_volumes_and_healthchecks() -> None:
    nodes = minio_nodes()
    assert len(nodes) >= 4
    commands = {" ".join(node["command"].split()) for node in nodes.values()}
    assert len(commands) == 1, "every node must list the same endpoints in the same order"
    endpoints = expand_braces(next(iter(commands)).split()[-1])
    hosts = {re.match(r"https://([^:/]+)", e).group(1) for e in endpoints}  # type: ignore[union-attr]
    assert hosts == {node.get("hostname", name) for name, node in nodes.items()}
    drives = {e.rsplit("/", 1)[1] for e in endpoints}
    declared = set(compose()["volumes"])
    for name, node in nodes.items():
        mounts = {v.split(":")[1]: v.split(":")[0] for v in node["volumes"]}
        assert {f"/{d}" for d in drives} <= set(mounts), f"{name} lacks a drive volume"
        assert all(mounts[f"/{d}"] in declared for d in drives), f"{name}: drives must be named volumes"
        assert node["healthcheck"]["test"], name
    sources = [
        v.split(":")[0]
        for node in nodes.values()
        for v in node["volumes"]
        if v.split(":")[1] in {f"/{d}" for d in drives}
    ]
    assert len(set(sources)) == len(sources) >= 8, "a drive volume is shared between mounts"


def test_minio_credentials_and_parity() -> None:
    for name, node in minio_nodes().items():
        env = environment(node)
        assert env["MINIO_ROOT_USER_FILE"] == "/run/secrets/minio_root_user", name
        assert env["MINIO_ROOT_PASSWORD_FILE"] == "/run/secrets/minio_root_password", name
        assert "MINIO_ROOT_PASSWORD" not in env
        assert re.fullmatch(r"EC:\d", env["MINIO_STORAGE_CLASS_STANDARD"])
        assert "--certs-dir" in node["command"], "MinIO must serve TLS (CITY_MODE=production needs it)"


def test_published_ports_are_the_documented_ones() -> None:
    published: dict[str, set[tuple[str, int, int]]] = {}
    for name, service in services().items():
        for port in service.get("ports", []):
            *ip, host, container = str(port).split(":")
            published.setdefault(name, set()).add((ip[0] if ip else "", int(host), int(container)))
    assert published == PUBLISHED
    readme = (INFRA / "README.md").read_text()
    for ports in PUBLISHED.values():
        for _, host_port, _ in ports:
            assert re.search(rf"^\| {host_port} \|", readme, re.M), f"port {host_port} not in README"


def test_secrets_are_files_and_mounted_where_referenced() -> None:
    declared = compose_raw()["secrets"]
    for name, secret in declared.items():
        assert set(secret) == {"file"}, f"secret {name} must come from a file"
        assert re.fullmatch(r"\$\{CITY_SECRETS_DIR(:\?[^}]*)?\}/" + re.escape(name), secret["file"])
    used: set[str] = set()
    for service_name, service in services().items():
        mounted = set(service.get("secrets", []))
        assert mounted <= set(declared), f"{service_name} mounts an undeclared secret"
        used |= mounted
        for key, value in environment(service).items():
            if key.endswith("_FILE") and value.startswith("/run/secrets/"):
                assert value.removeprefix("/run/secrets/") in mounted, f"{service_name}: {key}={value}"
    assert used == set(declared), f"declared but never mounted: {set(declared) - used}"


def test_every_department_has_a_credential_for_the_bootstrap() -> None:
    init = services()["minio-init"]
    department_secrets = {s for s in init["secrets"] if s.startswith("dept_")}
    assert department_secrets == {f"dept_{department}_secret_key" for department in department_ids()}
    assert init["volumes"][0].split(":")[:2] == ["../minio", "/bootstrap"]
    assert environment(init)["MINIO_URL"].startswith("https://")


def test_vision_worker_reserves_an_nvidia_gpu() -> None:
    vision = services()["vision-worker"]
    devices = vision["deploy"]["resources"]["reservations"]["devices"]
    assert any(
        d["driver"] == "nvidia" and "gpu" in d["capabilities"] and d.get("count", 0) != 0 for d in devices
    )
    assert vision["profiles"] == ["gpu"], "a host without a GPU must still start the rest"
    assert vision["command"][:3] == ["python", "-m", "vision_jobs"]
    assert int(vision["shm_size"].rstrip("gb")) >= 1
    gpu_services = [n for n, s in services().items() if "deploy" in s]
    assert gpu_services == ["vision-worker"]


def test_dagster_stores_everything_in_postgres() -> None:
    postgres = services()["dagster-postgres"]
    assert postgres["image"].startswith("postgres:")
    pg_password_file = environment(postgres)["POSTGRES_PASSWORD_FILE"]
    for name in ("dagster-code", "dagster-webserver", "dagster-daemon"):
        service = services()[name]
        env = environment(service)
        assert env["DAGSTER_PG_HOST"] == "dagster-postgres"
        assert env["DAGSTER_PG_PASSWORD_FILE"] == pg_password_file
        assert env["DAGSTER_PG_USER"] == environment(postgres)["POSTGRES_USER"]
        assert env["DAGSTER_PG_DB"] == environment(postgres)["POSTGRES_DB"]
        assert service["depends_on"]["dagster-postgres"]["condition"] == "service_healthy"
        mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
        assert mounts["/opt/dagster/dagster_home/dagster.yaml"] == "../dagster/dagster.yaml"
    for name in ("dagster-webserver", "dagster-daemon"):
        mounts = {v.split(":")[1]: v.split(":")[0] for v in services()[name]["volumes"]}
        assert mounts["/opt/dagster/dagster_home/workspace.yaml"] == "../dagster/workspace.yaml"
        assert "--workspace=/opt/dagster/dagster_home/workspace.yaml" in services()[name]["command"]


def test_code_server_starts_after_buckets_exist() -> None:
    depends = services()["dagster-code"]["depends_on"]
    assert depends["minio-init"]["condition"] == "service_completed_successfully"


def test_long_running_services_have_healthchecks() -> None:
    missing = [n for n, s in services().items() if n not in ONE_SHOT and not s.get("healthcheck")]
    assert missing == []


def test_run_containers_get_what_dagster_yaml_promises() -> None:
    launcher = load_yaml(INFRA / "dagster" / "dagster.yaml")["run_launcher"]["config"]
    daemon_env = environment(services()["dagster-daemon"])
    code = environment(services()["dagster-code"])
    context = json.loads(code["DAGSTER_CONTAINER_CONTEXT"])["docker"]["container_kwargs"]
    targets = {v.split(":")[1]: v.split(":")[0] for v in context["volumes"]}
    for entry in launcher["env_vars"]:
        name, _, value = entry.partition("=")
        if value:  # a fixed path in the run container: something must be mounted there
            assert value in targets, f"run containers get {entry} but nothing is mounted at {value}"
        else:  # copied from the daemon's environment
            assert name in daemon_env, f"{name} is passed to runs but the daemon does not have it"
    named = {v.get("name") for v in compose()["volumes"].values() if v}
    assert {src for src in targets.values() if not src.startswith("/")} <= named
    assert launcher["network"] == compose()["networks"]["city"]["name"]
    assert code["DAGSTER_CURRENT_IMAGE"] == services()["dagster-code"]["image"]


def test_platform_talks_tls_to_s3_through_the_balancer() -> None:
    for name in ("dagster-code", "dagster-daemon", "vision-worker"):
        env = environment(services()[name])
        assert env["CITY_MODE"] == "production"
        assert env["CITY_S3_SECURE"] == "true"
        assert env["CITY_S3_ENDPOINT"].split(":")[0] in services()


def test_platform_trusts_the_city_ca_through_its_own_setting() -> None:
    """CITY_S3_CA_FILE reaches every client (minio, DuckDB/dbt, OpenLineage); the generic variables
    would reach only some of them."""
    tls_dir = read_env_file(COMPOSE_DIR / ".env.example")["CITY_TLS_DIR"]
    for name in ("dagster-code", "dagster-daemon", "vision-worker"):
        env = environment(services()[name])
        assert env["CITY_S3_CA_FILE"] == "/etc/city/tls/ca.crt", name
        assert not {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"} & set(env), name
        mounts = {v.split(":")[1]: v.split(":")[0] for v in services()[name]["volumes"]}
        assert mounts[env["CITY_S3_CA_FILE"]] == f"{tls_dir}/ca.crt", name


def test_daemon_sets_the_pool_limits_from_the_gpu_count() -> None:
    env = environment(services()["dagster-daemon"])
    gpus = read_env_file(COMPOSE_DIR / ".env.example")["CITY_GPU_COUNT"]
    assert env["CITY_POOL_LIMITS"] == f"warehouse=1 vision={gpus}"
    raw = environment(compose_raw()["services"]["dagster-daemon"])
    assert raw["CITY_POOL_LIMITS"] == "warehouse=1 vision=${CITY_GPU_COUNT:-1}"


def test_lineage_goes_to_marquez_over_tls() -> None:
    api, proxy = services()["marquez-api"], services()["marquez"]
    env = environment(services()["dagster-code"])
    # production mode refuses http:// to Marquez: the platform posts through the TLS proxy
    assert env["OPENLINEAGE_URL"] == env["OPENLINEAGE__TRANSPORT__URL"] == "https://marquez:5000"
    assert env["OPENLINEAGE__TRANSPORT__TYPE"] == "http"
    assert "ports" not in api, "the plain-HTTP API stays on the compose network"
    mounts = {v.split(":")[1]: v.split(":")[0] for v in proxy["volumes"]}
    tls_dir = read_env_file(COMPOSE_DIR / ".env.example")["CITY_TLS_DIR"]
    assert mounts["/etc/nginx/tls"] == f"{tls_dir}/marquez"
    conf = (COMPOSE_DIR / mounts["/etc/nginx/nginx.conf"]).read_text()
    assert re.search(r"^\s*listen 5000 ssl;", conf, re.M)
    assert "ssl_certificate /etc/nginx/tls/public.crt;" in conf
    assert "ssl_certificate_key /etc/nginx/tls/private.key;" in conf
    assert "proxy_pass http://marquez-api:5000;" in conf
    assert proxy["depends_on"]["marquez-api"]["condition"] == "service_healthy"
    assert environment(api)["POSTGRES_HOST"] == "marquez-postgres"
    assert "POSTGRES_PASSWORD" not in environment(api)
    assert any("/run/secrets/marquez_db_password" in part for part in api["entrypoint"])
    assert environment(services()["marquez-web"])["MARQUEZ_HOST"] == "marquez-api"

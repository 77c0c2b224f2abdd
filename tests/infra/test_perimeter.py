"""The production perimeter, read from the deployment files: the UIs only behind a login, no Docker
socket where no feature needs it, keys that cannot erase the audit trail, upload-only feed keys, and
a platform namespace that refuses all traffic the data flow does not need."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from cityplatform.layout import CCTV_PREFIX, LANDING_IOT_PREFIX
from cityplatform.settings import load_settings
from tests.infra.helpers import COMPOSE_DIR, INFRA, K8S, compose, load_yaml, load_yaml_all

UI_SERVICES = {"dagster-webserver": 3000, "marquez-web": 3000}
# The only services that hold the Docker socket, and the feature that needs it.
DOCKER_SOCKET_USERS = {
    "dagster-daemon": "the DockerRunLauncher starts a container per run",
    "dagster-webserver": "terminating a run stops its container",
}
DOCKER_SOCKET = "/var/run/docker.sock"
POLICIES = INFRA / "minio" / "policies"


def services() -> dict[str, Any]:
    return compose()["services"]


def nginx_servers(conf: str) -> list[str]:
    """The bodies of the ``server { ... }`` blocks (they hold no nested braces but ``location``)."""
    return re.findall(r"server \{(.*?)\n  \}", conf, re.S)


def ui_proxy_problems(conf: str) -> list[str]:
    problems = []
    if not re.search(r"^\s*auth_basic \"[^\"]+\";", conf, re.M) or "auth_basic off" in conf:
        problems.append("no login (auth_basic) for every server")
    if not re.search(r"^\s*auth_basic_user_file /run/secrets/ui_htpasswd;", conf, re.M):
        problems.append("the login is not the ui_htpasswd secret")
    servers = nginx_servers(conf)
    upstreams = {m for body in servers for m in re.findall(r"proxy_pass http://([\w-]+:\d+);", body)}
    if upstreams != {f"{name}:{port}" for name, port in UI_SERVICES.items()}:
        problems.append(f"the proxy does not front exactly the UIs: {sorted(upstreams)}")
    problems += [f"server without TLS: {body.strip()[:40]}" for body in servers if " ssl;" not in body]
    return problems


def test_the_uis_publish_no_port_and_are_reached_only_through_the_login_proxy() -> None:
    for name in UI_SERVICES:
        assert "ports" not in services()[name], f"{name} must not be published: it has no login"
    proxy = services()["ui-proxy"]
    assert proxy["secrets"] == ["ui_htpasswd"]
    conf_mount = next(v for v in proxy["volumes"] if v.endswith(":/etc/nginx/nginx.conf:ro"))
    conf = (COMPOSE_DIR / conf_mount.split(":")[0]).read_text()
    assert ui_proxy_problems(conf) == []
    published = {str(p).split(":")[-1] for p in proxy["ports"]}
    assert published == set(re.findall(r"listen (\d+) ssl;", conf))


def test_the_ui_proxy_check_can_fail() -> None:
    conf = (COMPOSE_DIR / "nginx" / "ui-auth.conf").read_text()
    assert ui_proxy_problems(conf.replace("auth_basic_user_file", "# auth_basic_user_file"))
    assert ui_proxy_problems(conf.replace("listen 3444 ssl;", "listen 3444;"))
    assert ui_proxy_problems(conf.replace("marquez-web:3000", "marquez-api:5000"))


def test_only_services_that_launch_or_stop_containers_hold_the_docker_socket() -> None:
    holders = {
        name
        for name, service in services().items()
        if any(DOCKER_SOCKET in str(volume) for volume in service.get("volumes", []))
    }
    assert holders == set(DOCKER_SOCKET_USERS)
    run_context = services()["dagster-code"]["environment"]["DAGSTER_CONTAINER_CONTEXT"]
    assert DOCKER_SOCKET not in run_context and "group_add" not in run_context
    assert "group_add" not in services()["dagster-code"]


def policy(name: str) -> dict[str, Any]:
    return json.loads((POLICIES / name).read_text())


def test_the_platform_key_can_erase_expired_versions_but_never_the_audit_trail() -> None:
    statements = policy("platform-readwrite.json")["Statement"]
    allowed = {a for s in statements if s["Effect"] == "Allow" for a in s["Action"]}
    assert {"s3:DeleteObjectVersion", "s3:ListBucketVersions"} <= allowed  # retention erases versions
    (deny,) = [s for s in statements if s["Effect"] == "Deny"]
    assert set(deny["Action"]) == {"s3:DeleteObject", "s3:DeleteObjectVersion"}
    ledger = load_settings().ownership_ledger.removeprefix("s3://")
    assert set(deny["Resource"]) == {f"arn:aws:s3:::{ledger}*", "arn:aws:s3:::lineage/*"}


def test_each_feed_has_an_upload_only_key_for_its_own_landing_folder() -> None:
    users = dict(line.split() for line in (INFRA / "minio" / "landing-users.txt").read_text().splitlines())
    assert users == {"iot": "landing-iot", "cctv": "landing-cctv"}
    for source, prefix in {"iot": LANDING_IOT_PREFIX, "cctv": CCTV_PREFIX}.items():
        (statement,) = policy(f"landing-{source}.json")["Statement"]
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == ["s3:PutObject"]
        assert statement["Resource"] == [f"arn:aws:s3:::landing/{prefix}*"]
        assert f"landing_{source}_secret_key" in services()["minio-init"]["secrets"]


def test_noncurrent_versions_expire_outside_the_audit_trail() -> None:
    (rule,) = json.loads((INFRA / "minio" / "lifecycle-noncurrent.json").read_text())["Rules"]
    assert rule["Status"] == "Enabled" and rule["Filter"] == {"Prefix": ""}
    assert 0 < rule["NoncurrentVersionExpiration"]["NoncurrentDays"] <= 30
    assert rule["Expiration"] == {"ExpiredObjectDeleteMarker": True}


def platform_policies() -> list[dict[str, Any]]:
    return load_yaml_all(K8S / "platform-networkpolicy.yaml")


def network_problems(policies: list[dict[str, Any]]) -> list[str]:
    """Anything in the platform namespace's policies wider than a named peer and port."""
    problems = []
    deny = [p for p in policies if p["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}]
    if not deny:
        problems.append("no default-deny policy for the whole namespace")
    for p in policies:
        name = p["metadata"]["name"]
        if p["metadata"]["namespace"] != "city-platform":
            problems.append(f"{name}: not in city-platform")
        for direction, peers in (("ingress", "from"), ("egress", "to")):
            for rule in p["spec"].get(direction, []):
                if not rule.get(peers) or not rule.get("ports"):
                    problems.append(f"{name}: {direction} rule without both peers and ports")
                for peer in rule.get(peers, []):
                    block = peer.get("ipBlock", {}).get("cidr")
                    if block is not None and not block.endswith("/32"):
                        problems.append(f"{name}: {direction} to a network ({block}), not an address")
                    if peer.get("namespaceSelector") == {}:
                        problems.append(f"{name}: {direction} to every namespace")
    return problems


def test_the_platform_namespace_refuses_all_but_the_data_flow() -> None:
    policies = platform_policies()
    assert network_problems(policies) == []
    egress_ports = {
        port["port"] for p in policies for rule in p["spec"].get("egress", []) for port in rule["ports"]
    }
    # DNS, gRPC code server, PostgreSQL, Marquez, S3, the ingress (lineage over TLS), API server, SMTP
    assert egress_ports == {53, 3030, 5432, 5000, 9000, 443, 6443, 587}
    outside = {
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for p in policies
        for rule in p["spec"].get("ingress", [])
        for peer in rule["from"]
        if "namespaceSelector" in peer
    }
    assert outside == {"ingress-nginx"}  # nobody outside the namespace but the ingress controller


def test_the_network_check_can_fail() -> None:
    policies = platform_policies()
    assert network_problems([p for p in policies if p["metadata"]["name"] != "city-platform-default-deny"])
    wide = json.loads(json.dumps(policies))
    wide[-1]["spec"]["egress"][0]["to"][0]["ipBlock"]["cidr"] = "0.0.0.0/0"
    assert network_problems(wide)


@pytest.mark.parametrize("values", ["dagster-values.yaml", "marquez-values.yaml"])
def test_the_charts_expose_no_ui_of_their_own(values: str) -> None:
    assert load_yaml(K8S / values)["ingress"] == {"enabled": False}


def test_the_uis_are_exposed_only_behind_tls_and_a_login() -> None:
    ingresses = [d for d in load_yaml_all(K8S / "ui-ingress.yaml") if d["kind"] == "Ingress"]
    backends = set()
    for ingress in ingresses:
        annotations = ingress["metadata"]["annotations"]
        assert annotations["nginx.ingress.kubernetes.io/auth-type"] == "basic"
        assert annotations["nginx.ingress.kubernetes.io/auth-secret"] == "city-ui-htpasswd"
        hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
        assert hosts <= {h for tls in ingress["spec"]["tls"] for h in tls["hosts"]}
        backends |= {
            path["backend"]["service"]["name"]
            for rule in ingress["spec"]["rules"]
            for path in rule["http"]["paths"]
        }
    assert backends == {"dagster-dagster-webserver", "marquez-web"}


def test_only_the_cluster_may_post_lineage_to_marquez() -> None:
    (api,) = [d for d in load_yaml_all(K8S / "marquez-ingress.yaml") if d["kind"] == "Ingress"]
    ranges = api["metadata"]["annotations"]["nginx.ingress.kubernetes.io/whitelist-source-range"]
    assert ranges and "0.0.0.0/0" not in ranges


def test_readme_documents_the_perimeter() -> None:
    readme = Path(INFRA / "README.md").read_text()
    needles = ("ui_htpasswd", "city-ui-htpasswd", "landing-users.txt", "platform-networkpolicy.yaml")
    for needle in (*needles, "lifecycle-noncurrent.json"):
        assert needle in readme

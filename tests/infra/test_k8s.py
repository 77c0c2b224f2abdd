"""Kubernetes manifests and Helm values: GPUs, limits, secrets by reference, who may reach S3."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.infra.helpers import (
    INFRA,
    K8S,
    holds_secret,
    image_problem,
    image_references,
    load_yaml,
    load_yaml_all,
    pinned_dependency,
    pyproject,
)

S3_CLIENT = ("city.platform/s3-client", "true")
MANIFESTS = [
    "namespace.yaml",
    "minio-tenant.yaml",
    "minio-bootstrap-job.yaml",
    "networkpolicy.yaml",
    "vision-job-template.yaml",
    "marquez-ingress.yaml",
]
# Manifests of objects that start no container.
IMAGELESS = {"namespace.yaml", "networkpolicy.yaml", "marquez-ingress.yaml"}
VALUES = ["dagster-values.yaml", "marquez-values.yaml"]


def docs(name: str) -> list[dict[str, Any]]:
    return load_yaml_all(K8S / name)


def one(name: str, kind: str) -> dict[str, Any]:
    (doc,) = [d for d in docs(name) if d["kind"] == kind]
    return doc


def dagster() -> dict[str, Any]:
    return load_yaml(K8S / "dagster-values.yaml")


def user_deployment() -> dict[str, Any]:
    (deployment,) = dagster()["dagster-user-deployments"]["deployments"]
    return deployment


def pod_spec(name: str) -> dict[str, Any]:
    return one(name, "Job")["spec"]["template"]["spec"]


def limits_problems(resources: dict[str, Any] | None, where: str) -> list[str]:
    limits = (resources or {}).get("limits") or {}
    requests = (resources or {}).get("requests") or {}
    return [
        f"{where}: no {kind} {field}"
        for field, values in (("limit", limits), ("request", requests))
        for kind in ("cpu", "memory")
        if kind not in values
    ]


def env_secret_problems(env: list[dict[str, Any]], where: str) -> list[str]:
    """Secret-looking variables must come from a Secret via secretKeyRef, never a value."""
    return [
        f"{where}: {e['name']} is not a secretKeyRef"
        for e in env
        if holds_secret(e["name"]) and "secretKeyRef" not in e.get("valueFrom", {})
    ]


def secret_names(node: Any) -> Iterator[str]:
    """Names of Secrets a manifest or values file depends on."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "secretKeyRef" or (key == "secret" and isinstance(value, dict)):
                yield value.get("name") or value["secretName"]
            elif key in {"existingSecretName", "postgresqlSecretName"}:
                yield value
            elif key in {"configuration"} and isinstance(value, dict):
                yield value["name"]
            elif key == "externalCertSecret":
                yield from (item["name"] for item in value)
            else:
                yield from secret_names(value)
    elif isinstance(node, list):
        for item in node:
            yield from secret_names(item)


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifests_are_complete_objects(name: str) -> None:
    for doc in docs(name):
        assert (
            doc["apiVersion"]
            and doc["kind"]
            and (doc["metadata"].get("name") or doc["metadata"].get("generateName"))
        )
        if doc["kind"] not in {"Namespace"}:
            assert doc["metadata"]["namespace"] in {"city-platform", "city-s3"}


@pytest.mark.parametrize("name", MANIFESTS + VALUES)
def test_every_image_is_pinned(name: str) -> None:
    images = list(image_references(docs(name)))
    assert [p for p in map(image_problem, images) if p] == []
    if name not in IMAGELESS:
        assert images, f"{name} names no image"


def test_our_images_carry_the_release_version() -> None:
    version = pyproject()["project"]["version"]
    assert user_deployment()["image"]["tag"] == version
    assert pod_spec("vision-job-template.yaml")["containers"][0]["image"].endswith(f"platform-gpu:{version}")
    dagster_version = pinned_dependency("dagster")
    for part in ("dagsterWebserver", "dagsterDaemon"):
        assert dagster()[part]["image"]["tag"] == dagster_version, "chart images must match pyproject"
    assert f"--version {dagster_version}" in (K8S / "dagster-values.yaml").read_text()


def test_vision_job_gets_one_gpu_on_a_gpu_node() -> None:
    spec = pod_spec("vision-job-template.yaml")
    (container,) = spec["containers"]
    resources = container["resources"]
    assert resources["limits"]["nvidia.com/gpu"] == resources["requests"]["nvidia.com/gpu"] == 1
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec["tolerations"]
    assert spec["nodeSelector"], "GPU jobs must not land on CPU nodes"
    assert (
        spec["restartPolicy"] == "Never"
        and one("vision-job-template.yaml", "Job")["spec"]["backoffLimit"] == 0
    )
    assert container["command"] == ["python", "-m", "vision_jobs.pipes"]
    assert env_secret_problems(container["env"], "vision") == []
    assert {v["mountPath"] for v in container["volumeMounts"]} >= {"/dev/shm", "/tmp"}


@pytest.mark.parametrize("name", ["vision-job-template.yaml", "minio-bootstrap-job.yaml"])
def test_job_containers_have_limits_and_no_privilege(name: str) -> None:
    spec = pod_spec(name)
    assert spec["securityContext"]["runAsNonRoot"] is True
    for container in spec["containers"]:
        assert limits_problems(container["resources"], container["name"]) == []
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert env_secret_problems(container.get("env", []), container["name"]) == []


def test_limits_checks_can_fail() -> None:
    assert limits_problems({"requests": {"cpu": 1, "memory": "1Gi"}}, "x") == [
        "x: no cpu limit",
        "x: no memory limit",
    ]
    assert env_secret_problems([{"name": "CITY_S3_SECRET_KEY", "value": "x"}], "x")
    assert env_secret_problems([{"name": "DB_PASSWORD", "valueFrom": {"configMapKeyRef": {}}}], "x")


def test_helm_components_have_resource_limits() -> None:
    values, marquez = dagster(), load_yaml(K8S / "marquez-values.yaml")
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    pool = one("minio-tenant.yaml", "Tenant")["spec"]["pools"][0]
    problems = (
        limits_problems(values["dagsterWebserver"]["resources"], "webserver")
        + limits_problems(values["dagsterDaemon"]["resources"], "daemon")
        + limits_problems(user_deployment()["resources"], "code location")
        + limits_problems(launcher["resources"], "run pods")
        + limits_problems(marquez["marquez"]["resources"], "marquez api")
        + limits_problems(marquez["web"]["resources"], "marquez web")
        + limits_problems(pool["resources"], "minio")
    )
    assert problems == []


def test_dagster_uses_external_postgres_and_secrets_by_reference() -> None:
    values = dagster()
    assert values["postgresql"]["enabled"] is False
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]
    assert not values["postgresql"].get("postgresqlPassword")
    assert values["postgresql"]["postgresqlParams"]["sslmode"] in {"require", "verify-ca", "verify-full"}
    assert values["postgresql"]["postgresqlScheme"] == "postgresql+psycopg2", "psycopg 3 is not installed"
    deployment = user_deployment()
    assert deployment["dagsterApiGrpcArgs"] == ["--module-name", "orchestration.definitions"]
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True
    assert env_secret_problems(deployment["env"], "code location") == []
    env = {e["name"]: e for e in deployment["env"]}
    assert env["CITY_MODE"]["value"] == "production" and env["CITY_S3_SECURE"]["value"] == "true"
    assert "secretKeyRef" in env["CITY_S3_SECRET_KEY"]["valueFrom"]


def test_runs_use_the_k8s_launcher_and_a_queue() -> None:
    values = dagster()
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    coordinator = values["dagsterDaemon"]["runCoordinator"]
    assert coordinator["enabled"] is True and coordinator["type"] == "QueuedRunCoordinator"
    job_spec = values["runLauncher"]["config"]["k8sRunLauncher"]["runK8sConfig"]["jobSpecConfig"]
    assert job_spec["backoffLimit"] == 0


def test_minio_tenant_is_distributed() -> None:
    tenant = one("minio-tenant.yaml", "Tenant")
    spec = tenant["spec"]
    (pool,) = spec["pools"]
    assert pool["servers"] >= 4 and pool["servers"] * pool["volumesPerServer"] >= 8
    assert pool["volumeClaimTemplate"]["spec"]["resources"]["requests"]["storage"]
    anti = pool["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert anti["topologyKey"] == "kubernetes.io/hostname", "two servers on one node defeat erasure coding"
    assert spec["configuration"]["name"], "root credentials come from a Secret"
    assert spec["requestAutoCert"] is False and spec["externalCertSecret"], "TLS from the city CA"
    certificate = one("minio-tenant.yaml", "Certificate")
    assert certificate["spec"]["secretName"] == spec["externalCertSecret"][0]["name"]


def test_only_labelled_platform_pods_reach_s3() -> None:
    tenant = one("minio-tenant.yaml", "Tenant")
    policy = one("networkpolicy.yaml", "NetworkPolicy")
    assert policy["metadata"]["namespace"] == tenant["metadata"]["namespace"]
    assert policy["spec"]["podSelector"]["matchLabels"] == {"v1.min.io/tenant": tenant["metadata"]["name"]}
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    client_rule = policy["spec"]["ingress"][0]["from"][0]
    assert client_rule["podSelector"]["matchLabels"] == dict([S3_CLIENT])
    (ns_label,) = client_rule["namespaceSelector"]["matchLabels"].items()
    namespaces = {
        d["metadata"]["name"]: d["metadata"]["labels"]
        for d in docs("namespace.yaml")
        if d["kind"] == "Namespace"
    }
    assert all(labels.get(ns_label[0]) == ns_label[1] for labels in namespaces.values())
    ports = {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]}
    assert 9000 in ports
    # Every pod that talks S3 carries the label the policy admits.
    labelled = {
        "code location": user_deployment()["labels"],
        "run pods": dagster()["runLauncher"]["config"]["k8sRunLauncher"]["labels"],
        "vision job": one("vision-job-template.yaml", "Job")["spec"]["template"]["metadata"]["labels"],
        "bootstrap": one("minio-bootstrap-job.yaml", "Job")["spec"]["template"]["metadata"]["labels"],
    }
    assert {name for name, labels in labelled.items() if labels.get(S3_CLIENT[0]) != S3_CLIENT[1]} == set()


def test_s3_endpoint_is_the_tenant_service_over_tls() -> None:
    tenant = one("minio-tenant.yaml", "Tenant")
    endpoint = {e["name"]: e.get("value") for e in user_deployment()["env"]}["CITY_S3_ENDPOINT"]
    assert endpoint == f"minio.{tenant['metadata']['namespace']}.svc.cluster.local:443"
    dns_names = one("minio-tenant.yaml", "Certificate")["spec"]["dnsNames"]
    assert endpoint.rsplit(":", 1)[0] in dns_names
    vision_env = {
        e["name"]: e.get("value") for e in pod_spec("vision-job-template.yaml")["containers"][0]["env"]
    }
    assert vision_env["CITY_S3_ENDPOINT"] == endpoint


def test_marquez_reads_its_password_from_a_secret() -> None:
    marquez = load_yaml(K8S / "marquez-values.yaml")
    assert marquez["marquez"]["existingSecretName"]
    assert not marquez["marquez"]["db"].get("password")
    assert marquez["postgresql"]["enabled"] is False


def test_lineage_goes_to_marquez_over_tls_with_the_city_ca() -> None:
    """Production mode refuses http:// to Marquez: runs and vision jobs post through the TLS ingress,
    whose certificate the city CA (CITY_S3_CA_FILE) issues, and trust that CA by the platform's setting."""
    ingress, certificate = one("marquez-ingress.yaml", "Ingress"), one("marquez-ingress.yaml", "Certificate")
    (rule,) = ingress["spec"]["rules"]
    (tls,) = ingress["spec"]["tls"]
    assert tls["secretName"] == certificate["spec"]["secretName"]
    assert rule["host"] in tls["hosts"] and rule["host"] in certificate["spec"]["dnsNames"]
    assert certificate["spec"]["issuerRef"] == {"name": "city-ca", "kind": "ClusterIssuer"}
    assert [p["backend"]["service"]["name"] for p in rule["http"]["paths"]] == ["marquez"]
    envs = {
        "runs": {e["name"]: e.get("value") for e in user_deployment()["env"]},
        "vision job": {
            e["name"]: e.get("value") for e in pod_spec("vision-job-template.yaml")["containers"][0]["env"]
        },
    }
    for where, env in envs.items():
        url = f"https://{rule['host']}"
        assert env["OPENLINEAGE_URL"] == env["OPENLINEAGE__TRANSPORT__URL"] == url, where
        assert env["CITY_S3_CA_FILE"] == "/etc/city/tls/ca.crt", where
        assert not {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"} & set(env), where


def test_readme_lists_every_secret_the_cluster_needs() -> None:
    readme = (INFRA / "README.md").read_text()
    needed = {name for file in MANIFESTS + VALUES for name in secret_names(docs(file))}
    assert len(needed) >= 6
    assert {name for name in needed if f"`{name}`" not in readme} == set()


def test_bootstrap_job_mounts_the_files_the_script_reads() -> None:
    spec = pod_spec("minio-bootstrap-job.yaml")
    (container,) = spec["containers"]
    env = {e["name"]: e["value"] for e in container["env"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes[mounts[env["BOOTSTRAP_DIR"]]]["configMap"]["name"] == "minio-bootstrap"
    assert "secret" in volumes[mounts[env["SECRETS_DIR"]]]
    config_dir = str(Path(env["MINIO_CONFIG_ENV_FILE"]).parent)
    tenant = one("minio-tenant.yaml", "Tenant")
    assert volumes[mounts[config_dir]]["secret"]["secretName"] == tenant["spec"]["configuration"]["name"]
    assert container["command"] == ["/bin/sh", f"{env['BOOTSTRAP_DIR']}/bootstrap.sh"]

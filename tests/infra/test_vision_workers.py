"""The production path of vision runs without a cluster: the pod ``PipesK8sClient`` would submit,
built by the code from the code location's settings, and the manifest in infra/ that must equal it."""

from __future__ import annotations

from typing import Any

import kubernetes
import pytest
from dagster_k8s.pipes import build_pod_body

from cityplatform.settings import Settings, SettingsError, load_settings
from orchestration.lib.vision_workers import POD_LABELS, vision_pod_spec
from tests.infra.helpers import K8S, load_yaml, load_yaml_all
from tests.infra.test_k8s import env_secret_problems


def deployment_env() -> dict[str, str]:
    """The plain (not secret) environment of the Dagster code location in the Helm values: what the
    run pods that start vision pods have."""
    (deployment,) = load_yaml(K8S / "dagster-values.yaml")["dagster-user-deployments"]["deployments"]
    return {e["name"]: e["value"] for e in deployment["env"] if "value" in e}


def production_settings(**overrides: object) -> Settings:
    env = deployment_env()
    return load_settings(vision_launcher="k8s", vision_image=env["CITY_VISION_IMAGE"], **overrides)


def template() -> dict[str, Any]:
    (job,) = [d for d in load_yaml_all(K8S / "vision-job-template.yaml") if d["kind"] == "Job"]
    return job


def submitted_pod(settings: Settings) -> dict[str, Any]:
    """The pod body dagster-k8s builds (and would create) from our spec, as Kubernetes JSON."""
    pod = build_pod_body(
        pod_name="dagster-run-vision",
        image=None,
        command=None,
        env_vars={"DAGSTER_PIPES_CONTEXT": "ctx", "DAGSTER_PIPES_MESSAGES": "msgs"},
        base_pod_meta={"labels": POD_LABELS},
        base_pod_spec=vision_pod_spec(settings, deployment_env()),
    )
    return kubernetes.client.ApiClient().sanitize_for_serialization(pod)


def test_the_manifest_in_infra_is_the_pod_the_code_submits() -> None:
    job = template()
    assert job["spec"]["template"]["spec"] == vision_pod_spec(production_settings(), deployment_env())
    assert job["spec"]["template"]["metadata"]["labels"].items() >= POD_LABELS.items()


def test_the_submitted_pod_runs_the_vision_image_on_a_gpu_node_with_secrets_by_reference() -> None:
    settings = production_settings(vision_gpus=2, vision_node_selector={"pool": "gpu-a100"})
    pod = submitted_pod(settings)
    (container,) = pod["spec"]["containers"]
    assert container["image"] == deployment_env()["CITY_VISION_IMAGE"]
    assert container["command"] == ["python", "-m", "vision_jobs.pipes"]
    resources = container["resources"]
    assert (
        resources["limits"]["nvidia.com/gpu"] == resources["requests"]["nvidia.com/gpu"] == "2"
    )  # a Kubernetes quantity
    assert pod["spec"]["nodeSelector"] == {"pool": "gpu-a100"}
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["metadata"]["labels"].items() >= POD_LABELS.items()
    env = {e["name"]: e for e in container["env"]}
    assert env["CITY_S3_SECRET_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "city-s3-platform",
        "key": "secretKey",
    }
    assert env["CITY_S3_ACCESS_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "city-s3-platform",
        "key": "accessKey",
    }
    assert env_secret_problems(container["env"], "vision") == []
    assert env["CITY_S3_ENDPOINT"]["value"] == deployment_env()["CITY_S3_ENDPOINT"]
    assert env["CITY_HOME"]["value"] == "/tmp/city"
    assert "DAGSTER_PIPES_CONTEXT" in env  # Pipes' bootstrap, added by dagster-k8s


def test_secret_name_comes_from_settings_and_no_value_is_copied() -> None:
    env = vision_pod_spec(production_settings(vision_s3_secret="s3-vision"), {"CITY_S3_SECRET_KEY": "x" * 30})
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
        for e in env["containers"][0]["env"]
        if "valueFrom" in e
    }
    assert refs == {"CITY_S3_ACCESS_KEY": "s3-vision", "CITY_S3_SECRET_KEY": "s3-vision"}
    assert "x" * 30 not in str(env)


def test_k8s_launcher_without_an_image_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITY_VISION_LAUNCHER", "k8s")
    monkeypatch.delenv("CITY_VISION_IMAGE", raising=False)
    with pytest.raises(SettingsError, match=r"^CITY_VISION_IMAGE: required when CITY_VISION_LAUNCHER=k8s"):
        load_settings()
    assert load_settings(vision_launcher="subprocess").vision_launcher == "subprocess"

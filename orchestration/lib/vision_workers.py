"""Where vision runs analyse clips: a local process, or a pod on a GPU node, both through Dagster Pipes.

``CITY_VISION_LAUNCHER`` is the one switch: ``subprocess`` (the laptop default) starts
``python -m vision_jobs.pipes`` beside the run with ``PipesSubprocessClient``; ``k8s`` submits a pod
of ``CITY_VISION_IMAGE`` through dagster-k8s's ``PipesK8sClient``. The pod specification is built
here and nowhere else: ``infra/k8s/vision-job-template.yaml`` is checked against
:func:`vision_pod_spec` by a test, so the manifest an operator reads is the pod Dagster submits.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

import dagster as dg

from cityplatform.settings import Settings, load_settings

PIPES_MODULE = ["-m", "vision_jobs.pipes"]
SCRATCH = "/tmp"
CA_MOUNT = "/etc/city/tls"
UID = 10001
# The code location's own settings a vision pod needs as they are (no secrets among them): where S3
# and Marquez are, over what, in which time zone. The S3 keys go by reference (secretKeyRef).
FORWARDED_ENV = (
    "CITY_MODE",
    "CITY_TIMEZONE",
    "CITY_S3_ENDPOINT",
    "CITY_S3_SECURE",
    "CITY_S3_REGION",
    "CITY_S3_CA_FILE",
    "CITY_VISION_MODEL",  # run-time weights and camera registry (run config still wins, as extras)
    "CITY_VISION_CAMERAS",
    "CITY_VISION_MAX_RESOLUTION",
    "OPENLINEAGE__TRANSPORT__TYPE",
    "OPENLINEAGE__TRANSPORT__URL",
    "OPENLINEAGE__TRANSPORT__ENDPOINT",
    "OPENLINEAGE_URL",
    "OPENLINEAGE_ENDPOINT",
    "OPENLINEAGE_NAMESPACE",
)
POD_LABELS = {
    "app.kubernetes.io/name": "vision-worker",
    "city.platform/s3-client": "true",  # admitted by the S3 tenant's NetworkPolicy
}


def _secret_env(name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def vision_env(settings: Settings, environ: Mapping[str, str]) -> list[dict[str, Any]]:
    """The pod's environment: scratch home, the forwarded settings, the S3 keys by reference."""
    env: list[dict[str, Any]] = [{"name": "CITY_HOME", "value": f"{SCRATCH}/city"}]
    env += [{"name": name, "value": environ[name]} for name in FORWARDED_ENV if name in environ]
    env += [
        _secret_env("CITY_S3_ACCESS_KEY", settings.vision_s3_secret, "accessKey"),
        _secret_env("CITY_S3_SECRET_KEY", settings.vision_s3_secret, "secretKey"),
    ]
    return env


def vision_pod_spec(settings: Settings, environ: Mapping[str, str]) -> dict[str, Any]:
    """The pod spec (Kubernetes' camelCase) of one vision run: GPU node, GPUs, image, non-root."""
    gpus = settings.vision_gpus
    return {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "nodeSelector": dict(settings.vision_node_selector),
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": UID,
            "runAsGroup": UID,
            "fsGroup": UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": "vision",
                "image": settings.vision_image,
                "imagePullPolicy": "IfNotPresent",
                "command": ["python", *PIPES_MODULE],
                "env": vision_env(settings, environ),
                "resources": {
                    # Extended resources like nvidia.com/gpu are whole devices: request equals limit.
                    "requests": {"cpu": str(4 * gpus), "memory": f"{16 * gpus}Gi", "nvidia.com/gpu": gpus},
                    "limits": {"cpu": str(8 * gpus), "memory": f"{24 * gpus}Gi", "nvidia.com/gpu": gpus},
                },
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "volumeMounts": [
                    {"name": "city-ca", "mountPath": CA_MOUNT, "readOnly": True},
                    {"name": "tmp", "mountPath": SCRATCH},
                    {"name": "dshm", "mountPath": "/dev/shm"},
                ],
            }
        ],
        "volumes": [
            {
                "name": "city-ca",
                "secret": {"secretName": "city-ca", "items": [{"key": "ca.crt", "path": "ca.crt"}]},
            },
            # Downloaded clips and model caches; the root filesystem stays read-only.
            {"name": "tmp", "emptyDir": {"sizeLimit": "50Gi"}},
            # PyTorch passes tensors between threads through shared memory; the default is 64 MB.
            {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}},
        ],
    }


class VisionWorkers(dg.ConfigurableResource):
    """Runs ``vision_jobs.pipes`` for an asset where ``CITY_VISION_LAUNCHER`` says, through Pipes."""

    def run(
        self, context: dg.AssetExecutionContext, extras: Mapping[str, Any]
    ) -> dg.PipesClientCompletedInvocation:
        settings = load_settings()
        if settings.vision_launcher == "k8s":
            from dagster_k8s import PipesK8sClient

            return PipesK8sClient(load_incluster_config=True).run(
                context=context,
                extras=extras,
                namespace=settings.vision_namespace,
                base_pod_meta={"labels": POD_LABELS},
                base_pod_spec=vision_pod_spec(settings, os.environ),
            )
        return dg.PipesSubprocessClient().run(
            command=[sys.executable, *PIPES_MODULE], context=context, extras=extras
        )

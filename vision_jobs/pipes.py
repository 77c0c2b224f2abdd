"""Dagster Pipes adapter: run one clip for the orchestrator in a process of its own.

``python -m vision_jobs.pipes`` is launched by the ``cctv/derived/*`` assets through Dagster Pipes,
so the webserver and code server never import torch. This is the only module of ``vision_jobs`` that
knows about Dagster, and it only uses the small ``dagster-pipes`` protocol package.

Extras it reads: ``clip_uri``; ``model``, the :class:`~vision_jobs.config.ModelConfig` fields the run
sets (``weights`` may be an ``s3://`` URI); ``cameras``, the camera registry (a path or ``s3://``).
Unset, the settings (``CITY_VISION_MODEL``, ``CITY_VISION_CAMERAS``) or the package's files apply.
Every materialisation names the weights and registry used with their sha256 (``model_sha256``,
``cameras_sha256``) and lists both under ``read_versions`` for lineage.
"""

from __future__ import annotations

import sys

from dagster_pipes import open_dagster_pipes

from cityplatform.layout import bronze_cctv_prefix
from cityplatform.objectstore import ObjectStore
from cityplatform.settings import load_settings
from vision_jobs.artifacts import RunInputs, resolve
from vision_jobs.config import JobConfig, ModelConfig
from vision_jobs.detect import UltralyticsDetector
from vision_jobs.job import ClipReport, run_clip

READ_VERSIONS = "read_versions"  # metadata: {location: sha256} of the run-time inputs (lineage reads it)
# Asset keys the orchestrator declares for the outputs of a clip.
OUTPUT_ASSETS = {
    "detections": "cctv/derived/detections",
    "counts": "cctv/derived/counts",
    "coverage": "cctv/derived/coverage",
    "occupancy": "cctv/derived/zone_occupancy",
}


def _metadata(report: ClipReport, table: str, inputs: RunInputs) -> dict[str, object]:
    output = next(uri for uri in report.outputs if f"/{bronze_cctv_prefix(table)}" in uri)
    model_sha256 = report.detector.get("weights_sha256", "unknown")
    return {
        "camera_id": report.camera_id,
        "clip": report.uri,
        "path": output,
        "file": {"raw_value": report.files[output], "type": "json"},  # rows and sha256 (city verify)
        "frames_read": report.frames_analysed,
        "frames_per_second": round(report.frames_per_second, 2),
        "seconds": round(report.seconds, 2),
        **report.detector,
        **inputs.metadata(),
        "model_sha256": model_sha256,
        READ_VERSIONS: {
            "raw_value": {
                inputs.metadata()["model_uri"]: model_sha256,
                inputs.cameras.uri: inputs.cameras.sha256,
            },
            "type": "json",
        },
    }


def main() -> int:
    with open_dagster_pipes() as pipes:
        extras = pipes.extras
        settings = load_settings()
        store = ObjectStore.from_settings(settings)
        model = dict(extras.get("model") or {})
        inputs = resolve(store, settings, model.pop("weights", None), extras.get("cameras"))
        config = JobConfig(model=ModelConfig(weights=inputs.weights, **model))
        report = run_clip(
            store, extras["clip_uri"], inputs.registry, UltralyticsDetector(config.model), config
        )
        if not report.ok:
            pipes.log.error(f"{report.uri} quarantined ({report.reason}): {report.detail}")
            # Handled, not crashed: the orchestrator turns this message into the run's failure reason.
            pipes.report_custom_message(
                {
                    "status": report.status,
                    "reason": report.reason,
                    "detail": report.detail,
                    "record": report.outputs,
                }
            )
            return 0
        for table, asset_key in OUTPUT_ASSETS.items():
            metadata = _metadata(report, table, inputs)
            if table == "detections":
                metadata["detections"] = report.detections
            if table == "counts":
                crossings = {"raw_value": report.crossings, "type": "json"}
                metadata["crossings_by_line_direction_class"] = crossings
                metadata["crossings_total"] = sum(report.crossings.values())
            pipes.report_asset_materialization(asset_key=asset_key, metadata=metadata)
    return 0


if __name__ == "__main__":
    sys.exit(main())

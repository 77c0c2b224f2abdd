"""Dagster Pipes adapter: run one clip for the orchestrator in a process of its own.

``python -m vision_jobs.pipes`` is launched by the ``cctv/derived/*`` assets through Dagster Pipes,
so the webserver and code server never import torch. This is the only module of ``vision_jobs`` that
knows about Dagster, and it only uses the small ``dagster-pipes`` protocol package.
"""

from __future__ import annotations

import sys

from dagster_pipes import open_dagster_pipes

from cityplatform.layout import bronze_cctv_prefix
from cityplatform.objectstore import ObjectStore
from cityplatform.settings import load_settings
from vision_jobs.config import JobConfig, ModelConfig
from vision_jobs.detect import UltralyticsDetector
from vision_jobs.job import ClipReport, run_clip
from vision_jobs.registry import DEFAULT_REGISTRY, load_registry

# Asset keys the orchestrator declares for the outputs of a clip.
OUTPUT_ASSETS = {
    "detections": "cctv/derived/detections",
    "counts": "cctv/derived/counts",
    "coverage": "cctv/derived/coverage",
    "occupancy": "cctv/derived/zone_occupancy",
}


def _metadata(report: ClipReport, table: str) -> dict[str, object]:
    output = next(uri for uri in report.outputs if f"/{bronze_cctv_prefix(table)}" in uri)
    return {
        "camera_id": report.camera_id,
        "clip": report.uri,
        "path": output,
        "frames_read": report.frames_analysed,
        "frames_per_second": round(report.frames_per_second, 2),
        "seconds": round(report.seconds, 2),
        **report.detector,
    }


def main() -> int:
    with open_dagster_pipes() as pipes:
        extras = pipes.extras
        config = JobConfig(model=ModelConfig(**extras.get("model", {})))
        store = ObjectStore.from_settings(load_settings())
        report = run_clip(
            store,
            extras["clip_uri"],
            load_registry(DEFAULT_REGISTRY),
            UltralyticsDetector(config.model),
            config,
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
            metadata = _metadata(report, table)
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

"""Dagster Pipes adapter: run a batch of clips for the orchestrator in a process of its own.

``python -m vision_jobs.pipes`` is launched by the ``cctv/derived/*`` assets through Dagster Pipes
(a local process, or a pod on a GPU node), so the webserver and code server never import torch.
The model loads once and every clip of the run goes through it together (:func:`run_batch`). Each
clip's report goes back as one custom message; each table gets one materialisation whose metadata
lists every clip's object and its write record. This is the only module of ``vision_jobs`` that
knows about Dagster, and it only uses the small ``dagster-pipes`` protocol package.

Extras it reads: ``clip_uris``; ``model``, the :class:`~vision_jobs.config.ModelConfig` fields the
run sets (``weights`` may be an ``s3://`` URI); ``cameras``, the camera registry (a path or
``s3://``). Unset, the settings (``CITY_VISION_MODEL``, ``CITY_VISION_CAMERAS``) or the package's
files apply. Every materialisation names the weights and registry used with their sha256
(``model_sha256``, ``cameras_sha256``) and lists both under ``read_versions`` for lineage.
"""

from __future__ import annotations

import sys
from dataclasses import asdict

from dagster_pipes import PipesContext, open_dagster_pipes

from cityplatform.layout import bronze_cctv_prefix
from cityplatform.objectstore import ObjectStore
from cityplatform.settings import load_settings
from vision_jobs.artifacts import RunInputs, resolve
from vision_jobs.config import JobConfig, ModelConfig
from vision_jobs.detect import UltralyticsDetector
from vision_jobs.job import ClipReport, run_batch

READ_VERSIONS = "read_versions"  # metadata: {location: sha256} of the run-time inputs (lineage reads it)
# Asset keys the orchestrator declares for the outputs of a clip.
OUTPUT_ASSETS = {
    "detections": "cctv/derived/detections",
    "counts": "cctv/derived/counts",
    "coverage": "cctv/derived/coverage",
    "occupancy": "cctv/derived/zone_occupancy",
}


def output_of(report: ClipReport, table: str) -> str:
    """The clip's object of ``table`` (detections, counts, coverage, occupancy)."""
    return next(uri for uri in report.outputs if f"/{bronze_cctv_prefix(table)}" in uri)


def _metadata(done: list[ClipReport], table: str, inputs: RunInputs) -> dict[str, object]:
    frames = sum(r.frames_analysed for r in done)
    seconds = sum(r.seconds for r in done)
    paths = [output_of(r, table) for r in done]
    model_sha256 = done[0].detector.get("weights_sha256", "unknown")
    metadata: dict[str, object] = {
        "clips": len(done),
        "paths": {"raw_value": paths, "type": "json"},
        "files": {"raw_value": [r.files[path] for r, path in zip(done, paths, strict=True)], "type": "json"},
        "frames_read": frames,
        "frames_per_second": round(frames / seconds, 2) if seconds else 0.0,
        "seconds": round(seconds, 2),
        **done[0].detector,
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
    if table == "detections":
        metadata["detections"] = sum(r.detections for r in done)
    if table == "counts":
        crossings: dict[str, int] = {}
        for report in done:
            for key, n in report.crossings.items():
                crossings[key] = crossings.get(key, 0) + n
        metadata["crossings_by_line_direction_class"] = {
            "raw_value": dict(sorted(crossings.items())),
            "type": "json",
        }
        metadata["crossings_total"] = sum(crossings.values())
    return metadata


def report(pipes: PipesContext, reports: list[ClipReport], inputs: RunInputs) -> None:
    """Every clip's report, then one materialisation per table over the clips that were analysed."""
    for clip in reports:
        if not clip.ok:
            pipes.log.error(f"{clip.uri} quarantined ({clip.reason}): {clip.detail}")
        # Handled, not crashed: the orchestrator fails the run on a quarantined clip, after the others.
        pipes.report_custom_message({"clip": asdict(clip)})
    done = [r for r in reports if r.ok]
    if done:
        for table, asset_key in OUTPUT_ASSETS.items():
            pipes.report_asset_materialization(asset_key=asset_key, metadata=_metadata(done, table, inputs))


def main() -> int:
    with open_dagster_pipes() as pipes:
        extras = pipes.extras
        settings = load_settings()
        store = ObjectStore.from_settings(settings)
        model = dict(extras.get("model") or {})
        inputs = resolve(store, settings, model.pop("weights", None), extras.get("cameras"))
        config = JobConfig(model=ModelConfig(weights=inputs.weights, **model))
        detector = UltralyticsDetector(config.model)
        reports = run_batch(store, list(extras["clip_uris"]), inputs.registry, detector, config)
        report(pipes, reports, inputs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

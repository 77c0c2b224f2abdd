"""The batch job against a real S3 server: outputs where they belong, bad clips quarantined, CLI codes."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from cityplatform.objectstore import BRONZE, LANDING, QUARANTINE, ObjectStore, parquet_record_key
from cityplatform.settings import Settings
from citysim.cctv import ClipSpec, ClipTruth, render_clip, upload_clip
from vision_jobs.cli import app
from vision_jobs.config import JobConfig
from vision_jobs.detect import UltralyticsDetector
from vision_jobs.job import ClipReport, run_batch
from vision_jobs.publication import clip_publications
from vision_jobs.registry import CameraRegistry
from vision_jobs.sinks import COUNTS_SCHEMA, COVERAGE_SCHEMA, DETECTIONS_SCHEMA, OCCUPANCY_SCHEMA

pytestmark = pytest.mark.integration
BAD_PREFIX = "cctv/cam-02/date=2025-05-13"


@pytest.fixture(scope="module")
def good_uri(store: ObjectStore, short_clip: tuple[Path, ClipTruth]) -> str:
    path, truth = short_clip
    return upload_clip(store, path, truth).uri


@pytest.fixture(scope="module")
def bad_uris(store: ObjectStore, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One clip of each kind the job must refuse, keyed by the reason it must give."""
    avi = tmp_path_factory.mktemp("avi") / "clip.avi"
    render_clip(ClipSpec(camera_id="cam-02", seconds=3, warmup_s=5), avi)
    contents = {
        "empty": ("cam-02_20250513T090000.mp4", b""),
        "corrupt": ("cam-02_20250513T090500.mp4", b"\x00\x00\x00\x18ftypmp42 not a video" * 100),
        "truncated": ("cam-02_20250513T091000.avi", avi.read_bytes()[: avi.stat().st_size // 2]),
        "not-a-video": (
            "cam-02_20250513T091500.mp4",
            cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes(),
        ),
        "unknown-name": ("holiday.mp4", b"\x00" * 10),
    }
    for name, data in contents.values():
        store.put_bytes(LANDING, f"{BAD_PREFIX}/{name}", data)
    return {reason: f"s3://{LANDING}/{BAD_PREFIX}/{name}" for reason, (name, _) in contents.items()}


@pytest.fixture(scope="module")
def reports(
    store: ObjectStore,
    good_uri: str,
    bad_uris: dict[str, str],
    registry: CameraRegistry,
    detector: UltralyticsDetector,
    job_config: JobConfig,
) -> list[ClipReport]:
    return run_batch(store, [*bad_uris.values(), good_uri], registry, detector, job_config)


def read_parquet(store: ObjectStore, key: str) -> pl.DataFrame:
    return pl.read_parquet(io.BytesIO(store.get_bytes(BRONZE, key)))


def test_bad_clips_are_quarantined_with_their_reason_and_the_batch_goes_on(
    store: ObjectStore, reports: list[ClipReport], bad_uris: dict[str, str]
) -> None:
    by_uri = {r.uri: r for r in reports}
    for reason, uri in bad_uris.items():
        report = by_uri[uri]
        assert (report.status, report.reason) == ("quarantined", reason)
        record_uri = report.outputs[0]
        record = json.loads(store.get_bytes(QUARANTINE, record_uri.split("/", 3)[3]))
        assert (record["source"], record["reason"]) == (uri, reason)
    truncated = by_uri[bad_uris["truncated"]]
    assert store.stat(QUARANTINE, "cctv/cam-02/date=2025-05-13/cam-02_20250513T091000.avi") is not None
    assert "of the 3.00 s its header declares" in (truncated.detail or "")
    assert reports[-1].ok


def test_a_clip_above_the_cap_and_same_named_unusable_clips_are_each_quarantined(
    store: ObjectStore, good_uri: str, registry: CameraRegistry, detector: UltralyticsDetector
) -> None:
    """The 640x360 clip under a 480x270 cap (standing in for 8000x6000 under 4K); two ``holiday.mp4``
    in two folders: one record each, neither overwrites the other."""
    unusable = [f"cctv/{folder}/holiday.mp4" for folder in ("cam-01", "cam-02")]
    for key in unusable:
        store.put_bytes(LANDING, key, b"\x00" * 10)
    capped = JobConfig(max_resolution=(480, 270))
    reports = run_batch(
        store, [good_uri, *(f"s3://{LANDING}/{k}" for k in unusable)], registry, detector, capped
    )
    assert [(r.status, r.reason) for r in reports] == [
        ("quarantined", "resolution-too-large"),
        ("quarantined", "unknown-name"),
        ("quarantined", "unknown-name"),
    ]
    assert "640x360 exceeds" in (reports[0].detail or "")
    records = {r.outputs[0] for r in reports[1:]}
    unplaced = {f"cctv/unplaced/{k.removeprefix('cctv/')}.reason.json" for k in unusable}
    assert records == {f"s3://{QUARANTINE}/{key}" for key in unplaced}
    for uri in records:
        assert json.loads(store.get_bytes(QUARANTINE, uri.split("/", 3)[3]))["reason"] == "unknown-name"


def test_one_parquet_per_table_in_camera_date_hour_partitions(
    store: ObjectStore, reports: list[ClipReport], short_clip: tuple[Path, ClipTruth]
) -> None:
    _, truth = short_clip
    clip = truth.spec.clip_name
    partition = "date=2025-05-12/camera=cam-01/hour=08"
    (published,) = [p for p in clip_publications(store, BRONZE, date(2025, 5, 12)) if p.clip == clip]
    files = {table: record.info.key for table, record in published.files.items()}
    for table, schema in (
        ("detections", DETECTIONS_SCHEMA),
        ("counts", COUNTS_SCHEMA),
        ("coverage", COVERAGE_SCHEMA),
        ("occupancy", OCCUPANCY_SCHEMA),
    ):
        keys = [o.key for o in store.list_objects(BRONZE, f"cctv/{table}/{partition}/")]
        parquet = f"cctv/{table}/{partition}/{clip}/gen={published.generation}/{clip}.parquet"
        assert files[table] == parquet
        assert keys == [parquet, parquet_record_key(parquet)]  # the write's record beside it
        assert read_parquet(store, parquet).schema == pl.Schema(schema)
    detections = read_parquet(store, files["detections"])
    assert detections["frame_index"].max() >= truth.frames - 2 * 2  # every sampled frame up to the end
    assert set(detections["class"]) >= {"car", "person"}
    assert detections["ts"].min() == truth.spec.start  # 08:15 in the city's zone, stored in UTC
    coverage = read_parquet(store, files["coverage"])
    assert coverage["minute_start"].to_list() == [truth.spec.start]  # 08:15:00-08:15:08: one minute
    assert coverage["observed_seconds"].to_list() == [pytest.approx(truth.spec.seconds)]  # not 60


def test_counts_match_the_simulator_on_this_short_clip(
    store: ObjectStore, reports: list[ClipReport], short_clip: tuple[Path, ClipTruth]
) -> None:
    _, truth = short_clip
    (published,) = [
        p for p in clip_publications(store, BRONZE, date(2025, 5, 12)) if p.clip == truth.spec.clip_name
    ]
    counts = read_parquet(store, published.files["counts"].info.key)
    assert set(counts["segment_id"]) == {"RS001"}
    counted = {
        (r["line_id"], r["direction"], r["object_class"]): r["crossings"]
        for r in counts.group_by("line_id", "direction", "object_class")
        .agg(pl.col("crossings").sum())
        .to_dicts()
    }
    true_total, counted_total = sum(truth.counts().values()), sum(counted.values())
    assert true_total > 0
    assert abs(counted_total - true_total) <= 1


def test_evidence_frame_is_anonymised(
    store: ObjectStore, reports: list[ClipReport], short_clip: tuple[Path, ClipTruth]
) -> None:
    path, truth = short_clip
    (evidence,) = [u for u in reports[-1].outputs if u.endswith(".jpg")]
    key = evidence.split("/", 3)[3]
    frame_index = int(key.rsplit("frame-", 1)[1].removesuffix(".jpg"))
    kept = cv2.imdecode(np.frombuffer(store.get_bytes(BRONZE, key), np.uint8), cv2.IMREAD_COLOR)
    capture = cv2.VideoCapture(str(path))
    capture.set(cv2.CAP_PROP_POS_FRAMES, frame_index)
    ok, raw = capture.read()
    capture.release()
    assert ok
    boxes = truth.boxes.filter(pl.col("frame_index") == frame_index)
    sensitive = boxes.filter((pl.col("kind") == "plate") | (pl.col("object_class") == "person"))
    assert sensitive.height >= 3
    changed = 0
    for r in sensitive.iter_rows(named=True):
        x1, y1, x2, y2 = (int(r[k]) for k in ("x1", "y1", "x2", "y2"))
        diff = np.abs(kept[y1:y2, x1:x2].astype(int) - raw[y1:y2, x1:x2].astype(int)).mean()
        changed += diff > 8
    assert changed == sensitive.height


def test_rerunning_a_clip_replaces_its_outputs(
    store: ObjectStore,
    reports: list[ClipReport],
    good_uri: str,
    registry: CameraRegistry,
    detector: UltralyticsDetector,
    job_config: JobConfig,
) -> None:
    (evidence,) = [u.split("/", 3)[3] for u in reports[-1].outputs if u.endswith(".jpg")]
    older = evidence.rsplit("/", 1)[0] + "/frame-999999.jpg"  # e.g. kept by a run before fail-closed
    store.put_bytes(BRONZE, older, b"an older, unblurred frame")
    (again,) = run_batch(store, [good_uri], registry, detector, job_config)
    assert again.ok and again.crossings == reports[-1].crossings
    (evidence_again,) = [u.split("/", 3)[3] for u in again.outputs if u.endswith(".jpg")]
    kept = [o.key for o in store.list_objects(BRONZE, evidence.split("/gen=")[0] + "/")]
    assert kept == [evidence_again]  # the earlier generation went, with the frame planted in it
    counts = [o.key for o in store.list_objects(BRONZE, "cctv/counts/date=2025-05-12/camera=cam-01/hour=08/")]
    assert len(counts) == 2 and parquet_record_key(counts[0]) == counts[1]  # one file, with its record


def test_cli_exit_codes(city_settings: Settings, good_uri: str, bad_uris: dict[str, str]) -> None:
    runner = CliRunner()
    done = runner.invoke(app, ["run", "--clip", good_uri, "--evidence-frames", "0"])
    assert done.exit_code == 0, done.output
    assert "done" in done.output
    quarantined = runner.invoke(app, ["run", "--clip", bad_uris["corrupt"], "--json"])
    assert quarantined.exit_code == 4
    (report,) = json.loads(quarantined.stdout)  # the JSON alone on stdout, the failure on stderr
    assert report["status"] == "quarantined" and report["reason"], report
    unknown_camera = runner.invoke(app, ["run", "--clip", good_uri, "--camera", "cam-99"])
    assert unknown_camera.exit_code == 2
    assert "cam-99" in unknown_camera.output


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for args in ([], ["run"], ["train"], ["evaluate"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output

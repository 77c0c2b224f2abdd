"""A vision batch when the real S3 server process goes away while it writes: a restart of a few
seconds is ridden out by the object store's retries and every clip's outputs exist exactly once; a
server that stays away ends the CLI with one line and exit code 3, never a traceback. A batch whose
process is killed leaves readers each clip's last publication whole, and a rerun publishes each
clip once."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from tenacity import Retrying, retry_if_result, stop_after_delay, wait_fixed

from cityplatform.embedded_s3 import EmbeddedS3
from cityplatform.exits import EXIT_STORAGE
from cityplatform.objectstore import BRONZE, PARQUET_RECORD_SUFFIX, ObjectStore
from cityplatform.settings import load_settings
from citysim.cctv import ClipSpec, render_clip, upload_clip
from tests.conftest import running_s3_server
from vision_jobs.config import JobConfig
from vision_jobs.detect import UltralyticsDetector
from vision_jobs.job import run_batch
from vision_jobs.publication import ClipPublication, clip_publications
from vision_jobs.registry import CameraRegistry

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TABLES = ("detections", "counts", "coverage", "occupancy")


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedS3]:
    """A server of this module's own, since its tests stop and restart it."""
    with running_s3_server(tmp_path_factory.mktemp("vision-fault-s3")) as server:
        yield server


def land_clips(store: ObjectStore, folder: Path, hour: int, seconds: list[int]) -> list[str]:
    """cam-01 clips of the given lengths, five minutes apart from ``hour`` o'clock; their URIs."""
    start = datetime(2025, 6, 3, hour, tzinfo=load_settings().zone)
    uris = []
    for number, length in enumerate(seconds):
        spec = ClipSpec(
            camera_id="cam-01", start=start + timedelta(minutes=5 * number), seconds=length, seed=number
        )
        path = folder / f"{spec.clip_name}.mp4"
        uris.append(upload_clip(store, path, render_clip(spec, path)).uri)
    return uris


def bronze_keys(store: ObjectStore, hour: int) -> dict[str, list[str]]:
    """Every object of each output table (and the evidence) in the clips' hour."""
    partition = f"date=2025-06-03/camera=cam-01/hour={hour:02d}/"
    return {
        table: sorted(o.key for o in store.list_objects(BRONZE, f"cctv/{table}/{partition}"))
        for table in (*TABLES, "evidence")
    }


def test_a_restart_while_the_batch_writes_is_ridden_out_and_each_output_exists_once(
    s3_server: EmbeddedS3,
    store: ObjectStore,
    tmp_path: Path,
    registry: CameraRegistry,
    detector: UltralyticsDetector,
    job_config: JobConfig,
) -> None:
    uris = land_clips(store, tmp_path, 9, [2, 2, 2])
    outage: list[threading.Thread] = []

    def progress(clip: str, frames: int) -> Callable[[int], None]:
        seen = [0]

        def on_frames(n: int) -> None:
            # the second clip's last frame is tracked: its tracker thread writes its outputs next
            seen[0] += n
            if clip == Path(uris[1]).stem and seen[0] == frames:
                s3_server.stop()
                outage.append(threading.Thread(target=lambda: (time.sleep(2), s3_server.start())))
                outage[0].start()

        return on_frames

    reports = run_batch(store, uris, registry, detector, job_config, progress=progress)
    assert len(outage) == 1  # the server did go away under the batch
    outage[0].join()
    assert [r.status for r in reports] == ["done"] * 3
    keys = bronze_keys(store, 9)
    for table in TABLES:
        parquet = [k for k in keys[table] if k.endswith(".parquet")]
        assert [Path(k).stem for k in parquet] == [Path(u).stem for u in uris]  # one per clip, no more
    assert len(keys["evidence"]) == 3
    for report in reports:  # nothing lost: each object is what its write recorded
        for uri, record in report.files.items():
            data = store.get_bytes(BRONZE, uri.split("/", 3)[3])
            assert hashlib.sha256(data).hexdigest() == record["sha256"]
            assert pq.read_metadata(io.BytesIO(data)).num_rows == record["rows"]


def test_storage_that_stays_away_is_one_line_and_exit_code_3(
    s3_server: EmbeddedS3, store: ObjectStore, city_env: Path, tmp_path: Path
) -> None:
    first, *rest = land_clips(store, tmp_path, 10, [2, 12, 12])
    command = [sys.executable, "-m", "vision_jobs", "run", "--evidence-frames", "0"]
    for uri in (first, *rest):
        command += ["--clip", uri]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as process:
        # the short clip is written; the server goes away under the long ones, and stays away
        Retrying(stop=stop_after_delay(300), wait=wait_fixed(0.05), retry=retry_if_result(lambda r: not r))(
            lambda: process.poll() is not None or bool(bronze_keys(store, 10)["counts"])
        )
        assert process.poll() is None, "the batch ended before the server went away"
        s3_server.stop()
        try:
            _, stderr = process.communicate(timeout=300)
        finally:
            s3_server.start()
    assert process.returncode == EXIT_STORAGE, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1] == (
        f"error: S3 at {store.url} does not answer: start it with `city storage up` or set CITY_S3_ENDPOINT."
    )


def publications(store: ObjectStore, hour: int) -> dict[str, ClipPublication]:
    """The clips of the hour that readers see, by clip name."""
    day = clip_publications(store, BRONZE, date(2025, 6, 3))
    return {p.clip: p for p in day if f"T{hour:02d}" in p.clip}


def test_a_batch_killed_partway_leaves_whole_clips_and_a_rerun_publishes_each_once(
    s3_server: EmbeddedS3,
    store: ObjectStore,
    city_env: Path,
    tmp_path: Path,
    registry: CameraRegistry,
    detector: UltralyticsDetector,
    job_config: JobConfig,
) -> None:
    uris = land_clips(store, tmp_path, 11, [2, 12])
    short, long = (Path(uri).stem for uri in uris)
    first = run_batch(store, uris, registry, detector, job_config)
    published = publications(store, 11)
    command = [sys.executable, "-m", "vision_jobs", "run", "--clip", uris[0], "--clip", uris[1]]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
        # the short clip is published anew while the long one is still analysed: kill the batch then
        Retrying(stop=stop_after_delay(300), wait=wait_fixed(0.05), retry=retry_if_result(lambda r: not r))(
            lambda: (
                process.poll() is not None
                or publications(store, 11)[short].generation != published[short].generation
            )
        )
        assert process.poll() is None, "the batch ended before it was killed"
        process.kill()
    killed = publications(store, 11)
    assert killed[long].generation == published[long].generation  # the last whole publication
    for publication in killed.values():  # and what each names is there, as its write recorded
        for record in publication.files.values():
            data = store.get_bytes(BRONZE, record.info.key)
            assert hashlib.sha256(data).hexdigest() == record.sha256
    again = run_batch(store, uris, registry, detector, job_config)
    assert [r.crossings for r in again] == [r.crossings for r in first]
    final = publications(store, 11)
    named = {key for p in final.values() for key in (*p.evidence, *(r.info.key for r in p.files.values()))}
    left = [
        k for keys in bronze_keys(store, 11).values() for k in keys if not k.endswith(PARQUET_RECORD_SUFFIX)
    ]
    assert sorted(left) == sorted(named)  # each clip's outputs once: no earlier or killed generation

"""Decoding: stride, resize, frame times from the stream's own timestamps, and a clear reason for each
kind of unreadable clip.

The awkward clips are encoded here with PyAV, so each test knows every frame's true presentation time:
an AVI whose header declares 50 fps with an empty placeholder chunk in every other slot (what ffmpeg
writes for 25 fps footage at ``-r 50``), a variable frame rate, and files cut short.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from citysim.cctv import ClipTruth
from vision_jobs.config import JobConfig
from vision_jobs.decode import UnreadableClip, batches, probe, read_frames
from vision_jobs.detect import UltralyticsDetector
from vision_jobs.pipeline import analyse_clip
from vision_jobs.registry import CameraRegistry

# The shared real footage (../shared/data/README.md): OpenCV's pedestrian scene, 795 frames at 10 fps.
PEDESTRIANS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pedestrians-480x360.avi"
START = datetime.fromisoformat("2026-12-05T15:00:00+01:00")


def encode(
    path: Path, pts: Sequence[int], time_base: Fraction, rate: int, options: dict[str, str] | None = None
) -> None:
    """H.264 frames at the given presentation timestamps (in ``time_base``); the stream declares
    ``rate`` frames a second. Each frame is a different grey with a moving bar, so none is dropped."""
    with av.open(str(path), "w", options=options or {}) as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.codec_context.time_base = time_base
        for number, stamp in enumerate(pts):
            image = np.full((96, 160, 3), 40 + number % 180, np.uint8)
            image[:, number % 150 : number % 150 + 10] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = stamp, time_base
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


@pytest.fixture(scope="module")
def placeholder_avi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """341 real frames at 25 fps in an AVI declaring 50 fps: 13.6 s, every other chunk empty."""
    path = tmp_path_factory.mktemp("avi") / "placeholders.avi"
    encode(path, [2 * n for n in range(341)], Fraction(1, 50), rate=50)
    return path


def test_stride_and_resize(short_clip: tuple[Path, ClipTruth]) -> None:
    path, truth = short_clip
    info = probe(path)
    assert (info.width, info.height, round(info.fps), info.frames) == (640, 360, 30, truth.frames)
    frames = list(read_frames(path, stride=3, long_side=320))
    assert [f.index for f in frames] == list(range(0, truth.frames, 3))
    assert [f.time for f in frames] == pytest.approx([f.index / 30 for f in frames])
    assert frames[0].image.shape == (180, 320, 3)
    assert frames[0].original.shape == (360, 640, 3)


def test_placeholder_frames_neither_count_nor_squeeze_the_clip(placeholder_avi: Path) -> None:
    capture = cv2.VideoCapture(str(placeholder_avi))  # what the header says, placeholders included
    assert capture.get(cv2.CAP_PROP_FPS) == 50
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) > 2 * 340
    capture.release()
    info = probe(placeholder_avi)
    assert (info.container, info.frames, round(info.fps)) == ("avi", 341, 25)
    assert info.seconds == pytest.approx(341 / 25, abs=1 / 25)  # 13.6 s, not the 6.8 s of 341 / 50
    assert info.declared_seconds == pytest.approx(341 / 25, abs=1 / 25)
    times = [f.time for f in read_frames(placeholder_avi, stride=1, long_side=160)]
    assert len(times) == 341
    assert times == pytest.approx([n / 25 for n in range(341)], abs=1 / 25)
    assert times[-1] == pytest.approx(13.6, abs=1 / 25)


def test_placeholder_frames_are_no_reason_to_quarantine(
    placeholder_avi: Path, registry: CameraRegistry, detector: UltralyticsDetector, job_config: JobConfig
) -> None:
    analysis = analyse_clip(placeholder_avi, registry.get("cam-01"), detector, job_config, START)
    assert analysis.frames_analysed == 171  # every other of 341 frames (cam-01's stride is 2)
    assert analysis.sampled_fps == pytest.approx(12.5, abs=0.1)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_variable_frame_rate_times_are_the_streams_own(tmp_path: Path, suffix: str) -> None:
    """Bursts at 30 fps and lulls at 5 fps, as a motion-triggered camera writes; H.264 with B-frames,
    so the decoder returns frames in another order than the file stores them."""
    rng = np.random.default_rng(7)
    steps = rng.choice([33, 200], size=120, p=[0.7, 0.3])  # milliseconds between frames
    pts = np.concatenate([[0], np.cumsum(steps)[:-1]]).tolist()
    path = tmp_path / f"vfr{suffix}"
    encode(path, pts, Fraction(1, 1000), rate=30)
    times = [f.time for f in read_frames(path, stride=1, long_side=160)]
    assert len(times) == len(pts)
    shortest = min(steps) / 1000
    assert times == pytest.approx([p / 1000 for p in pts], abs=shortest)  # within one frame
    info = probe(path)
    assert info.frames == len(pts)
    assert info.seconds == pytest.approx(pts[-1] / 1000, abs=0.2)  # plus the last frame's length


def test_the_shared_real_footage_decodes_at_its_own_times() -> None:
    if not PEDESTRIANS.exists():
        pytest.skip(f"{PEDESTRIANS} is absent: the shared test data is not beside this clone")
    info = probe(PEDESTRIANS)
    assert (info.container, info.width, info.height, info.frames) == ("avi", 480, 360, 795)
    assert (info.fps, info.seconds) == pytest.approx((10.0, 79.5))
    frames = list(read_frames(PEDESTRIANS, stride=5, long_side=320))
    assert len(frames) == 159
    assert [f.time for f in frames] == pytest.approx([f.index / 10 for f in frames], abs=0.1)
    assert frames[-1].time == pytest.approx(79.0, abs=0.1)


def test_batches_keep_order_and_sizes(short_clip: tuple[Path, ClipTruth]) -> None:
    path, truth = short_clip
    sizes = [len(b) for b in batches(read_frames(path, 1, 160), size=32)]
    assert sum(sizes) == truth.frames
    assert sizes[:-1] == [32] * (len(sizes) - 1)


def test_an_early_stop_of_the_consumer_releases_the_decoder(short_clip: tuple[Path, ClipTruth]) -> None:
    path, _ = short_clip
    for first in batches(read_frames(path, 1, 160), size=4, prefetch=1):
        assert len(first) == 4
        break


def png_bytes() -> bytes:
    ok, png = cv2.imencode(".png", np.zeros((360, 640, 3), np.uint8))
    assert ok
    return png.tobytes()


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("cam-01_20250512T080000.mp4", b"", "empty"),
        ("cam-01_20250512T080000.mp4", png_bytes(), "not-a-video"),  # a still image named .mp4
        ("cam-01_20250512T080000.gif", b"GIF89a", "not-a-video"),
        ("cam-01_20250512T080000.mp4", b"\x00\x00\x00\x18ftypmp42 this is not a video" * 50, "corrupt"),
    ],
)
def test_unreadable_clips_say_why(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableClip) as error:
        probe(path)
    assert error.value.reason == reason


def test_a_video_is_known_by_its_bytes_not_its_name(placeholder_avi: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "clip.mp4"
    renamed.write_bytes(placeholder_avi.read_bytes())
    info = probe(renamed)
    assert (info.container, info.frames) == ("avi", 341)
    still = tmp_path / "still.mp4"
    still.write_bytes(png_bytes())
    with pytest.raises(UnreadableClip, match="the content is a PNG image"):
        probe(still)


def test_a_truncated_mp4_without_its_index_cannot_be_opened(
    short_clip: tuple[Path, ClipTruth], tmp_path: Path
) -> None:
    path, _ = short_clip
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(UnreadableClip, match="corrupt"):
        probe(cut)


@pytest.mark.parametrize(
    ("suffix", "options"), [(".avi", None), (".mp4", {"movflags": "faststart"}), (".mkv", None)]
)
def test_a_clip_cut_short_is_truncated_by_what_its_stream_holds(
    tmp_path: Path,
    suffix: str,
    options: dict[str, str] | None,
    registry: CameraRegistry,
    detector: UltralyticsDetector,
    job_config: JobConfig,
) -> None:
    whole = tmp_path / f"whole{suffix}"
    encode(whole, [2 * n for n in range(250)], Fraction(1, 50), rate=50, options=options)
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    info = probe(cut)
    assert info.declared_seconds == pytest.approx(10.0, abs=0.1)  # the header still promises it all
    assert info.seconds < 0.75 * info.declared_seconds
    with pytest.raises(UnreadableClip, match="truncated") as error:
        analyse_clip(cut, registry.get("cam-01"), detector, job_config, START)
    assert f"of the {info.declared_seconds:.2f} s its header declares" in error.value.detail


def test_a_clip_above_the_largest_resolution_is_refused_before_a_frame_is_decoded(
    short_clip: tuple[Path, ClipTruth], registry: CameraRegistry, detector: UltralyticsDetector
) -> None:
    """A small cap stands in for an 8000x6000 clip: the 640x360 clip's declared size alone refuses it."""
    path, _ = short_clip
    started: list[str] = []

    def progress(clip: str, frames: int) -> Callable[[int], None]:
        started.append(clip)  # called once a clip's frames start to flow
        return lambda n: None

    capped = JobConfig(max_resolution=(480, 270))
    with pytest.raises(UnreadableClip, match=r"640x360 exceeds .* 480x270") as error:
        analyse_clip(path, registry.get("cam-01"), detector, capped, START, progress)
    assert error.value.reason == "resolution-too-large"
    assert started == []
    portrait = JobConfig(max_resolution=(360, 640))  # the cap holds in either orientation
    assert analyse_clip(path, registry.get("cam-01"), detector, portrait, START).frames_analysed > 0


def test_a_stream_that_grows_past_the_cap_midway_is_refused_there(
    tmp_path: Path, registry: CameraRegistry, detector: UltralyticsDetector
) -> None:
    """Two MPEG-TS streams back to back: the header says 160x96, the second half is 320x192."""
    parts = []
    for width, height in ((160, 96), (320, 192)):
        part = tmp_path / f"{width}.ts"
        with av.open(str(part), "w", format="mpegts") as container:
            stream = container.add_stream("libx264", rate=10)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            for number in range(20):
                image = np.full((height, width, 3), 40 + 5 * number, np.uint8)
                container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
            container.mux(stream.encode(None))
        parts.append(part.read_bytes())
    grown = tmp_path / "grown.ts"
    grown.write_bytes(b"".join(parts))
    assert (probe(grown).width, probe(grown).height) == (160, 96)
    with pytest.raises(UnreadableClip, match="320x192 exceeds") as error:
        list(read_frames(grown, stride=1, long_side=160, largest=(200, 120)))
    assert error.value.reason == "resolution-too-large"
    capped = JobConfig(max_resolution=(200, 120))
    with pytest.raises(UnreadableClip, match="resolution-too-large"):
        analyse_clip(grown, registry.get("cam-01"), detector, capped, START)

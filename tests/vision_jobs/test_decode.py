"""Decoding: stride, resize, and a clear reason for each kind of unreadable clip."""

from __future__ import annotations

from pathlib import Path

import pytest

from citysim.cctv import ClipTruth
from vision_jobs.decode import UnreadableClip, batches, probe, read_frames


def test_stride_and_resize(short_clip: tuple[Path, ClipTruth]) -> None:
    path, truth = short_clip
    info = probe(path)
    assert (info.width, info.height, round(info.fps), info.declared_frames) == (640, 360, 30, truth.frames)
    frames = list(read_frames(path, stride=3, long_side=320))
    assert [f.index for f in frames] == list(range(0, truth.frames, 3))
    assert frames[0].image.shape == (180, 320, 3)
    assert frames[0].original.shape == (360, 640, 3)


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


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("cam-01_20250512T080000.mp4", b"", "empty"),
        ("cam-01_20250512T080000.gif", b"GIF89a", "unsupported"),
        ("cam-01_20250512T080000.mp4", b"\x00\x00\x00\x18ftypmp42 this is not a video" * 50, "corrupt"),
    ],
)
def test_unreadable_clips_say_why(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnreadableClip) as error:
        probe(path)
    assert error.value.reason == reason


def test_a_truncated_mp4_cannot_be_opened(short_clip: tuple[Path, ClipTruth], tmp_path: Path) -> None:
    path, _ = short_clip
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(UnreadableClip, match="corrupt"):
        probe(cut)

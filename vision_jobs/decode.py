"""Decoding seam: OpenCV reads a clip, keeps every n-th frame and resizes it to the model's size.

Decoding runs in a background thread (OpenCV releases the GIL) so the next batch is ready while the
detector works on the current one. A clip that cannot be opened, has no frames or stops well short
of the frame count its header declares raises :class:`UnreadableClip` with the reason.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

SUPPORTED_SUFFIXES = frozenset({".mp4", ".avi", ".mkv", ".mov"})


class UnreadableClip(ValueError):
    """A clip the job cannot analyse; ``reason`` is a short machine-readable tag."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ClipInfo:
    fps: float
    declared_frames: int
    width: int
    height: int


@dataclass(frozen=True)
class Frame:
    index: int  # position in the clip, counting every decoded frame
    image: np.ndarray  # resized for the model
    original: np.ndarray  # full resolution, for evidence


def probe(path: Path) -> ClipInfo:
    """Open the clip and read its header; reject what the job cannot decode."""
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise UnreadableClip(
            "unsupported", f"{path.suffix or 'no suffix'} is not one of {sorted(SUPPORTED_SUFFIXES)}"
        )
    if path.stat().st_size == 0:
        raise UnreadableClip("empty", "zero-length file")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise UnreadableClip("corrupt", "OpenCV cannot open the container or find a video stream")
        fps = capture.get(cv2.CAP_PROP_FPS)
        info = ClipInfo(
            fps=fps,
            declared_frames=int(capture.get(cv2.CAP_PROP_FRAME_COUNT)),
            width=int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            height=int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
    finally:
        capture.release()
    if not fps or fps <= 0 or info.width <= 0 or info.height <= 0:
        raise UnreadableClip(
            "corrupt", f"no usable video stream (fps={fps}, size={info.width}x{info.height})"
        )
    return info


def model_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    """Frame size whose long side is ``long_side``, keeping the aspect ratio."""
    scale = long_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def read_frames(path: Path, stride: int, long_side: int) -> Iterator[Frame]:
    """Every ``stride``-th frame, resized; grabs (without decoding) the frames it skips."""
    capture = cv2.VideoCapture(str(path))
    try:
        index = 0
        while True:
            if index % stride:
                if not capture.grab():
                    return
                index += 1
                continue
            ok, image = capture.read()
            if not ok:
                return
            height, width = image.shape[:2]
            size = model_size(width, height, long_side)
            resized = (
                image if size == (width, height) else cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            )
            yield Frame(index, resized, image)
            index += 1
    finally:
        capture.release()


def batches(frames: Iterator[Frame], size: int, prefetch: int = 2) -> Iterator[list[Frame]]:
    """Group frames into batches, decoded ahead in a thread so decode overlaps detection."""
    buffer: queue.Queue[list[Frame] | BaseException | None] = queue.Queue(maxsize=prefetch)
    stop = threading.Event()

    def produce() -> None:
        batch: list[Frame] = []
        try:
            for frame in frames:
                if stop.is_set():
                    return
                batch.append(frame)
                if len(batch) == size:
                    buffer.put(batch)
                    batch = []
            if batch:
                buffer.put(batch)
            buffer.put(None)
        except BaseException as exc:  # handed to the consumer, re-raised there
            buffer.put(exc)

    worker = threading.Thread(target=produce, name="decode", daemon=True)
    worker.start()
    try:
        while (item := buffer.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                buffer.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)

"""Decoding seam: PyAV reads a clip, keeps every n-th frame, resizes it to the model's size and gives
each frame its presentation time from the stream itself.

Why PyAV and not OpenCV: a frame's time must come from the container's timestamps, not from
``index / header fps``. Cameras and ffmpeg write variable frame rates and AVIs whose header declares
50 fps with an empty placeholder chunk in every other slot (25 real frames a second); OpenCV's frame
count and rate count the placeholders and would squeeze such a clip into half its length.

What a clip is comes from its bytes, not its file name: the container is recognised by its
signature and opened with that demuxer only, so a PNG named ``.mp4`` is refused as not a video.
Whether a clip is complete is judged from what its stream really holds (the span of its frames'
timestamps) against the duration its header declares.

Decoding runs in a background thread (FFmpeg releases the GIL) so the next batch is ready while the
detector works on the current one. A clip that cannot be opened, is not a video or has no frames
raises :class:`UnreadableClip` with the reason.
"""

from __future__ import annotations

import heapq
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

# Leading bytes of the containers the job decodes -> the FFmpeg demuxer that reads them.
_ISO_MEDIA_BOXES = (b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide")
_OTHER_FILES = {  # named in the reason, so an operator sees what was delivered instead
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive",
}
_TS_PACKET = 188  # bytes of an MPEG transport stream packet; each starts with the sync byte 0x47


class UnreadableClip(ValueError):
    """A clip the job cannot analyse; ``reason`` is a short machine-readable tag."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class ClipInfo:
    """What the clip's video stream really holds, read from its packets (nothing is decoded)."""

    container: str  # FFmpeg demuxer chosen from the bytes: mov, avi, matroska, mpegts
    frames: int  # frames the stream holds: non-empty packets (AVI placeholders do not count)
    seconds: float  # from the first frame's presentation time to the end of the last frame
    declared_seconds: float | None  # the header's duration, when it gives one
    width: int
    height: int

    @property
    def fps(self) -> float:
        """Mean frame rate of the frames held: the header's rate may count placeholders."""
        return self.frames / self.seconds


@dataclass(frozen=True)
class Frame:
    index: int  # position in the clip, counting every decoded frame
    time: float  # seconds from the clip's first frame, from the stream's presentation timestamps
    image: np.ndarray  # resized for the model
    original: np.ndarray  # full resolution, for evidence


def container_format(path: Path) -> str:
    """The demuxer for the clip's bytes; :class:`UnreadableClip` names what else the file is."""
    with path.open("rb") as file:
        head = file.read(_TS_PACKET + 1)
    if not head:
        raise UnreadableClip("empty", "zero-length file")
    if head[4:8] in _ISO_MEDIA_BOXES:
        return "mov"  # MP4, MOV, 3GP: ISO base media
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"  # MKV and WebM
    if head[0] == 0x47 and len(head) > _TS_PACKET and head[_TS_PACKET] == 0x47:
        return "mpegts"
    what = next((name for magic, name in _OTHER_FILES.items() if head.startswith(magic)), None)
    raise UnreadableClip(
        "not-a-video",
        f"the content is {what or 'no known video container'} (starts {head[:8].hex()}), "
        "not MP4/MOV, AVI, Matroska or MPEG-TS",
    )


def _open(path: Path) -> av.container.InputContainer:
    container = container_format(path)
    try:
        opened = av.open(str(path), format=container, mode="r")
    except (av.FFmpegError, UnicodeDecodeError) as exc:
        raise UnreadableClip("corrupt", f"the {container} container cannot be opened: {exc}") from None
    if not opened.streams.video:
        opened.close()
        raise UnreadableClip("corrupt", f"the {container} container has no video stream")
    return opened


def _packet_time(packet: av.Packet, container: str) -> int | None:
    """A packet's presentation timestamp in its stream's time base. AVI stores none: each chunk is one
    slot of the header's rate, so its decode timestamp is the slot's time (placeholders leave gaps)."""
    return packet.dts if container == "avi" or packet.pts is None else packet.pts


def probe(path: Path) -> ClipInfo:
    """Read the container's header and its video packets; reject what the job cannot decode."""
    with _open(path) as container:
        stream = container.streams.video[0]
        name = container.format.name.split(",")[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        time_base = stream.time_base or Fraction(1, 1)
        times: list[int] = []
        durations: list[int] = []
        try:
            for packet in container.demux(stream):
                if packet.size and (time := _packet_time(packet, name)) is not None:
                    times.append(time)
                    durations.append(packet.duration or 0)
        except av.FFmpegError:
            pass  # a damaged tail: what was read before it is what the stream holds
        if name == "avi" and stream.frames:
            # the header's count of slots: FFmpeg's duration of an AVI cut before its index is what it read
            declared = float(stream.frames * time_base)
        elif stream.duration:
            declared = float(stream.duration * time_base)
        elif container.duration:
            declared = container.duration / av.time_base
        else:
            declared = None
    if width <= 0 or height <= 0:
        raise UnreadableClip("corrupt", f"no usable video stream (size {width}x{height})")
    if not times:
        raise UnreadableClip("no-frames", "the container opened but its video stream holds no frame")
    order = np.argsort(times, kind="stable")
    first, last = times[order[0]], times[order[-1]]
    # the last frame lasts the mean interval of the frames before it (an AVI packet lasts one slot of
    # the header's rate, placeholders or not), or its own packet's duration when it is the only one
    last_duration = (last - first) / (len(times) - 1) if len(times) > 1 else durations[0]
    seconds = float((last - first + last_duration) * time_base)
    if seconds <= 0:
        raise UnreadableClip("corrupt", f"{len(times)} frames with no extent in time")
    return ClipInfo(name, len(times), seconds, declared, width, height)


def check_resolution(width: int, height: int, largest: tuple[int, int] | None) -> None:
    """Raise ``resolution-too-large`` when a ``width`` x ``height`` picture exceeds ``largest`` in
    either orientation (a portrait 2160x3840 fits a 3840x2160 cap): decoded, such frames would hold
    gigabytes in the decode queue before the detector shrinks them."""
    if largest is None:
        return
    if max(width, height) > max(largest) or min(width, height) > min(largest):
        raise UnreadableClip(
            "resolution-too-large",
            f"{width}x{height} exceeds the largest resolution decoded, {largest[0]}x{largest[1]} "
            "(CITY_VISION_MAX_RESOLUTION)",
        )


def model_size(width: int, height: int, long_side: int) -> tuple[int, int]:
    """Frame size whose long side is ``long_side``, keeping the aspect ratio."""
    scale = long_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _decoded(path: Path) -> Iterator[tuple[float, av.VideoFrame]]:
    """Every frame in presentation order with its time from the clip's first frame.

    The decoder returns frames in presentation order; the frame it returns is always the earliest of
    the packets fed to it and not yet returned, so a min-heap of packet timestamps gives each frame
    its own time, whatever the container (AVI keeps no presentation time on its frames).
    """
    with _open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        name = container.format.name.split(",")[0]
        time_base = float(stream.time_base or 1)
        pending: list[int] = []
        start: int | None = None
        try:
            for packet in container.demux(stream):
                if packet.size and (time := _packet_time(packet, name)) is not None:
                    heapq.heappush(pending, time)
                try:
                    frames = packet.decode()  # an empty packet at the end flushes the decoder
                except av.InvalidDataError:
                    continue  # a damaged packet: its frame is missing, the check after decoding counts it
                for frame in frames:
                    if not pending:
                        return
                    time = heapq.heappop(pending)
                    start = time if start is None else start
                    yield (time - start) * time_base, frame
        except av.FFmpegError:
            return  # a damaged tail ends the clip here; truncation is judged from what was decoded


def read_frames(
    path: Path, stride: int, long_side: int, largest: tuple[int, int] | None = None
) -> Iterator[Frame]:
    """Every ``stride``-th frame, resized; the frames between are decoded but never converted. A
    frame larger than ``largest`` (a stream that grows past the size its header declared) raises
    ``resolution-too-large`` before it is converted."""
    for index, (time, frame) in enumerate(_decoded(path)):
        check_resolution(frame.width, frame.height, largest)
        if index % stride:
            continue
        image = frame.to_ndarray(format="bgr24")
        height, width = image.shape[:2]
        size = model_size(width, height, long_side)
        resized = image if size == (width, height) else cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        yield Frame(index, time, resized, image)


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

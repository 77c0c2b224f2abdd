"""Privacy seam, fail-closed: a frame kept as evidence is anonymised whatever the detector found.

Raw clips are personal data. Blurring only where the detector found someone fails open: a person or
a plate the model missed (a COCO model at night, a cyclist it never learnt) stays sharp. So:

1. **The whole frame is pixelated** on a fixed grid, :data:`EVIDENCE_BLOCKS` blocks along its long
   side, before anything else is kept. This bounds the detail of every part of the frame without
   trusting any detection. On a traffic camera a face is at most about 1/16 and a licence plate at
   most about 1/10 of the frame's width (a car filling a quarter of a 1080p view carries a ~190 px
   plate): on a 64-block grid that is at most 4 blocks for a face and 6-7 blocks for a whole plate,
   under one block per character. Face recognition needs about 16 px across a face, and reading a
   plate about 10 px of character height, so neither survives. Blocks are upsampled smoothly, so the
   grid adds no hard edges of its own.
2. **Detected people and plate bands are blurred besides** (the whole box of a person or rider, the
   lower band of a vehicle where plates sit): for the one object close enough to fill many blocks.
3. **Detected objects are outlined** on top, in sharp lines: what evidence is for (what was where,
   how many, a blocked lane, a queue) stays visible; who it was does not.

The alternative of keeping frames only at a low resolution was rejected for the same reason step 1
works, but worse: a thumbnail fixes the detail in pixels of the output, so a close-up camera would
need a smaller one, whereas the grid is relative to the frame whatever its resolution.

Sinks accept only :class:`AnonymisedFrame`, which only :func:`anonymise` makes, so a frame that did not
go through all this cannot be written by mistake.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

EVIDENCE_BLOCKS = 64  # pixelation blocks along a kept frame's long side (see the module note)
WHOLE_BOX_CLASSES = frozenset({"person", "pedestrian", "rider", "bicycle", "motorbike", "motorcycle"})
PLATE_CLASSES = frozenset({"car", "bus", "truck", "van"})
PLATE_BAND_TOP = 0.45  # plates sit below this fraction of a vehicle's height
PADDING = 0.08  # grow each region by this share of its box, so box error cannot leave a plate edge sharp
OUTLINE = (0, 220, 255)  # BGR: amber outlines of the detected objects


@dataclass(frozen=True)
class AnonymisedFrame:
    """A frame pixelated whole, its people and plates blurred; the only frame type sinks will write."""

    frame_index: int
    image: np.ndarray


def privacy_regions(
    boxes: np.ndarray, classes: Iterable[str], frame_shape: tuple[int, ...]
) -> list[tuple[int, int, int, int]]:
    """Pixel rectangles to blur: whole people, vehicles' plate bands; clipped to the frame."""
    height, width = frame_shape[:2]
    regions = []
    for (x1, y1, x2, y2), object_class in zip(boxes, classes, strict=True):
        if object_class in PLATE_CLASSES:
            y1 = y1 + PLATE_BAND_TOP * (y2 - y1)
        elif object_class not in WHOLE_BOX_CLASSES:
            continue
        pad_x, pad_y = PADDING * (x2 - x1), PADDING * (y2 - y1)
        left, top = max(0, int(x1 - pad_x)), max(0, int(y1 - pad_y))
        right, bottom = min(width, int(np.ceil(x2 + pad_x))), min(height, int(np.ceil(y2 + pad_y)))
        if right > left and bottom > top:
            regions.append((left, top, right, bottom))
    return regions


def _blur(patch: np.ndarray) -> np.ndarray:
    """Pixelate then smooth: nothing the size of a face or a plate character survives."""
    h, w = patch.shape[:2]
    small = cv2.resize(patch, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    coarse = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.GaussianBlur(coarse, (0, 0), sigmaX=max(1.0, min(w, h) / 6))


def pixelate(image: np.ndarray, blocks: int = EVIDENCE_BLOCKS) -> np.ndarray:
    """The whole frame averaged over a grid of ``blocks`` along its long side, upsampled smoothly."""
    h, w = image.shape[:2]
    block = max(1, math.ceil(max(h, w) / blocks))
    small = cv2.resize(
        image, (max(1, round(w / block)), max(1, round(h / block))), interpolation=cv2.INTER_AREA
    )
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def anonymise(
    frame_index: int, image: np.ndarray, boxes: np.ndarray, classes: Iterable[str]
) -> AnonymisedFrame:
    """An anonymised copy of ``image`` (see the module note); the original is left untouched."""
    out = image.copy()
    for left, top, right, bottom in privacy_regions(boxes, classes, image.shape):
        out[top:bottom, left:right] = _blur(out[top:bottom, left:right])
    out = pixelate(out)
    height, width = image.shape[:2]
    for x1, y1, x2, y2 in np.asarray(boxes, np.float64).reshape(-1, 4):
        corner = (int(np.clip(x1, 0, width - 1)), int(np.clip(y1, 0, height - 1)))
        opposite = (int(np.clip(x2, 0, width - 1)), int(np.clip(y2, 0, height - 1)))
        cv2.rectangle(out, corner, opposite, OUTLINE, thickness=1)
    return AnonymisedFrame(frame_index, out)

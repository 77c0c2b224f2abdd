"""Privacy seam: raw clips are personal data, so any frame kept as evidence is anonymised first.

Every person box is blurred whole (a motorbike's box too: it carries a rider), and every vehicle's
licence-plate region (the lower part of the body, where front and rear plates sit, across the whole
width) is blurred. Sinks accept only :class:`AnonymisedFrame`, which only :func:`anonymise` makes,
so an unblurred frame cannot be written by mistake.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

WHOLE_BOX_CLASSES = frozenset({"person", "pedestrian", "rider", "bicycle", "motorbike", "motorcycle"})
PLATE_CLASSES = frozenset({"car", "bus", "truck", "van"})
PLATE_BAND_TOP = 0.45  # plates sit below this fraction of a vehicle's height
PADDING = 0.08  # grow each region by this share of its box, so box error cannot leave a plate edge sharp


@dataclass(frozen=True)
class AnonymisedFrame:
    """A frame whose people and plates have been blurred; the only frame type sinks will write."""

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


def anonymise(
    frame_index: int, image: np.ndarray, boxes: np.ndarray, classes: Iterable[str]
) -> AnonymisedFrame:
    """A blurred copy of ``image``; the original is left untouched."""
    out = image.copy()
    for left, top, right, bottom in privacy_regions(boxes, classes, image.shape):
        out[top:bottom, left:right] = _blur(out[top:bottom, left:right])
    return AnonymisedFrame(frame_index, out)

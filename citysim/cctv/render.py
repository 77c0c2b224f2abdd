"""Draw a street's state as a camera frame: static scene, road users, licence plates, lighting.

Drawing is plain OpenCV. Objects are painted far to near so nearer ones occlude farther ones, and a
lamp post with a sign stands in the foreground as a fixed occluder.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from citysim.cctv.agents import Pedestrian, Street, Vehicle

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Conditions:
    """What the weather and the mounting do to the picture."""

    night: bool = False
    rain: float = 0.0  # 0 (dry) .. 1 (downpour)
    jitter_px: float = 0.0  # how far wind shakes the camera, in pixels


def _rect(img: np.ndarray, x1: float, y1: float, x2: float, y2: float, colour: tuple[int, ...]) -> None:
    cv2.rectangle(img, (round(x1), round(y1)), (round(x2), round(y2)), colour, thickness=-1)


def static_scene(street: Street, seed: int) -> np.ndarray:
    """Buildings, sidewalks, road, markings and crosswalk: everything that never moves."""
    lay, w, h = street.layout, street.width, street.height
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = (178, 168, 150)
    x = 0.0
    while x < w:
        bw = float(rng.uniform(0.08, 0.2)) * w
        top = float(rng.uniform(0.0, 0.12)) * h
        colour = tuple(int(c) for c in rng.integers(90, 200, 3))
        _rect(img, x, top, x + bw, lay.top_sidewalk[0] * h, colour)
        for wy in np.arange(top + 6, lay.top_sidewalk[0] * h - 10, 14):
            for wx in np.arange(x + 5, x + bw - 8, 12):
                _rect(img, wx, wy, wx + 6, wy + 7, (120, 100, 70))
        x += bw + float(rng.uniform(2, 10))
    _rect(img, 0, lay.top_sidewalk[0] * h - 3, w, lay.road_top * h, (165, 170, 172))
    _rect(img, 0, lay.road_top * h, w, lay.road_bottom * h, (82, 84, 86))
    _rect(img, 0, lay.road_bottom * h, w, h, (160, 166, 168))
    cv2.line(img, (0, round(lay.road_top * h)), (w, round(lay.road_top * h)), (200, 200, 200), 2)
    cv2.line(img, (0, round(lay.road_bottom * h)), (w, round(lay.road_bottom * h)), (200, 200, 200), 2)
    centre_y = round(lay.crosswalk_line_y * h)
    for dash in range(0, w, 40):
        cv2.line(img, (dash, centre_y), (dash + 22, centre_y), (40, 200, 230), 2)
    x0, x1 = lay.crosswalk[0] * w, lay.crosswalk[1] * w
    _rect(img, x0 - 5, lay.road_top * h, x1 + 5, lay.road_bottom * h, (82, 84, 86))
    for y in np.arange(lay.road_top * h + 3, lay.road_bottom * h - 4, 12):
        _rect(img, x0, y, x1, y + 6, (225, 228, 230))
    noise = rng.normal(0, 5, img.shape).astype(np.int16)
    return np.clip(img.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def plate_boxes(vehicle: Vehicle, box: Box) -> list[Box]:
    """Where the licence plates sit: low on each end of the body (rear only on a motorbike)."""
    x1, y1, x2, y2 = box
    length, height = x2 - x1, y2 - y1
    pw, ph = max(8.0, 0.13 * length if vehicle.kind == "car" else 18.0), max(5.0, 0.12 * height)
    py = y1 + 0.62 * height
    rear_at_left = vehicle.lane.heading > 0
    plates = []
    for at_left in (True, False):
        is_rear = at_left == rear_at_left
        if vehicle.kind == "motorbike" and not is_rear:
            continue
        px = x1 + 2 if at_left else x2 - 2 - pw
        plates.append((px, py, px + pw, py + ph))
    return plates


def _draw_plate(img: np.ndarray, plate: Box, text: str) -> None:
    x1, y1, x2, y2 = plate
    _rect(img, x1, y1, x2, y2, (235, 240, 240))
    cv2.rectangle(img, (round(x1), round(y1)), (round(x2), round(y2)), (40, 40, 40), 1)
    cv2.putText(img, text, (round(x1) + 1, round(y2) - 1), cv2.FONT_HERSHEY_PLAIN, 0.35, (20, 20, 20), 1)


def _wheels(img: np.ndarray, box: Box, at: tuple[float, ...], radius: float) -> None:
    x1, _, x2, y2 = box
    for frac in at:
        centre = (round(x1 + frac * (x2 - x1)), round(y2 - radius))
        cv2.circle(img, centre, max(2, round(radius)), (25, 25, 25), -1)
        cv2.circle(img, centre, max(1, round(radius * 0.45)), (150, 150, 150), -1)


def _draw_rider(img: np.ndarray, cx: float, seat_y: float, height: float, colour: tuple[int, ...]) -> None:
    _rect(img, cx - 0.18 * height, seat_y - 0.5 * height, cx + 0.18 * height, seat_y, colour)
    cv2.circle(
        img, (round(cx), round(seat_y - 0.62 * height)), max(2, round(0.14 * height)), (60, 60, 200), -1
    )


def draw_vehicle(img: np.ndarray, vehicle: Vehicle, box: Box) -> list[Box]:
    """Paint one vehicle; return its plate boxes (they are ground truth for the privacy check)."""
    x1, y1, x2, y2 = box
    length, height = x2 - x1, y2 - y1
    front_right = vehicle.lane.heading > 0
    colour = vehicle.colour
    glass = (150, 120, 95)
    if vehicle.kind == "car":
        _rect(img, x1, y1 + 0.42 * height, x2, y2 - 0.15 * height, colour)
        cab_a, cab_b = (0.18, 0.72) if front_right else (0.28, 0.82)
        _rect(img, x1 + cab_a * length, y1, x1 + cab_b * length, y1 + 0.45 * height, colour)
        _rect(
            img,
            x1 + (cab_a + 0.04) * length,
            y1 + 0.08 * height,
            x1 + (cab_b - 0.04) * length,
            y1 + 0.4 * height,
            glass,
        )
        _wheels(img, box, (0.2, 0.8), 0.2 * height)
    elif vehicle.kind == "bus":
        _rect(img, x1, y1, x2, y2 - 0.12 * height, colour)
        _rect(img, x1 + 0.04 * length, y1 + 0.15 * height, x2 - 0.04 * length, y1 + 0.45 * height, glass)
        _wheels(img, box, (0.15, 0.82), 0.14 * height)
    elif vehicle.kind == "truck":
        cab = (0.72, 1.0) if front_right else (0.0, 0.28)
        cargo = (0.0, 0.7) if front_right else (0.3, 1.0)
        _rect(img, x1 + cargo[0] * length, y1, x1 + cargo[1] * length, y2 - 0.14 * height, (200, 200, 205))
        _rect(img, x1 + cab[0] * length, y1 + 0.25 * height, x1 + cab[1] * length, y2 - 0.14 * height, colour)
        _rect(
            img,
            x1 + (cab[0] + 0.05) * length,
            y1 + 0.32 * height,
            x1 + (cab[1] - 0.05) * length,
            y1 + 0.52 * height,
            glass,
        )
        _wheels(img, box, (0.14, 0.5, 0.86), 0.14 * height)
    else:  # motorbike with its rider
        _wheels(img, box, (0.18, 0.82), 0.22 * height)
        _rect(img, x1 + 0.2 * length, y1 + 0.5 * height, x2 - 0.2 * length, y2 - 0.25 * height, colour)
        _draw_rider(img, (x1 + x2) / 2, y1 + 0.58 * height, 0.6 * height, (60, 60, 60))
    plates = plate_boxes(vehicle, box)
    for plate in plates:
        _draw_plate(img, plate, vehicle.plate_text)
    return plates


def face_box(box: Box) -> Box:
    """Where a pedestrian's face (the head) is drawn: ground truth for the privacy checks."""
    x1, y1, x2, y2 = box
    height, cx = y2 - y1, (x1 + x2) / 2
    radius, cy = max(2, round(0.1 * height)), y1 + 0.1 * height
    return (cx - radius, cy - radius, cx + radius, cy + radius)


def draw_pedestrian(img: np.ndarray, ped: Pedestrian, box: Box) -> Box:
    """Paint one pedestrian; return their face box."""
    x1, y1, x2, y2 = box
    height, cx = y2 - y1, (x1 + x2) / 2
    swing = np.sin(ped.step_phase) * 0.22 * (x2 - x1) * 1.6
    hip_y = y1 + 0.55 * height
    for sign in (1, -1):
        cv2.line(img, (round(cx), round(hip_y)), (round(cx + sign * swing), round(y2)), (50, 45, 40), 3)
    _rect(img, x1 + 0.12 * (x2 - x1), y1 + 0.2 * height, x2 - 0.12 * (x2 - x1), hip_y + 2, ped.colour)
    cv2.circle(img, (round(cx), round(y1 + 0.1 * height)), max(2, round(0.1 * height)), (120, 160, 205), -1)
    return face_box(box)


def draw_lamp_post(img: np.ndarray, street: Street) -> None:
    """A pole in the foreground with a sign on it: the clip's fixed occluder."""
    w, h = street.width, street.height
    x = street.layout.lamp_post_x * w
    _rect(img, x - 3, 0, x + 3, street.layout.bottom_sidewalk[1] * h - 20, (70, 75, 80))
    _rect(img, x - 16, 0.36 * h, x + 16, 0.36 * h + 24, (160, 90, 20))
    cv2.putText(
        img, "30", (round(x - 9), round(0.36 * h + 18)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (240, 240, 240), 1
    )


def draw_lights(img: np.ndarray, vehicle: Vehicle, box: Box) -> None:
    """Headlights and tail lights: what still shows at night."""
    x1, y1, x2, y2 = box
    height = y2 - y1
    front_x, rear_x = (x2, x1) if vehicle.lane.heading > 0 else (x1, x2)
    y = round(y1 + 0.55 * height)
    cv2.ellipse(
        img,
        (round(front_x), y),
        (max(3, round(0.12 * height)), max(2, round(0.07 * height))),
        0,
        0,
        360,
        (200, 245, 255),
        -1,
    )
    cv2.circle(img, (round(rear_x), y), max(2, round(0.05 * height)), (40, 40, 230), -1)

"""What the camera adds on top of the scene: night exposure, rain, sensor noise and mounting shake."""

from __future__ import annotations

import cv2
import numpy as np

from citysim.cctv.render import Conditions


class CameraEffects:
    """Stateful per-clip effects; the shake is a smooth random walk so boxes move with the picture."""

    def __init__(self, width: int, height: int, conditions: Conditions, rng: np.random.Generator) -> None:
        self.conditions = conditions
        self.rng = rng
        self.width, self.height = width, height
        self._offset = np.zeros(2)
        sigma = 4 + 10 * conditions.rain + (5 if conditions.night else 0)
        # A bank of noise frames drawn once and picked at random: sensor noise at a fraction of the cost.
        self._noise_bank = [rng.normal(0, sigma, (height, width, 3)).astype(np.int16) for _ in range(6)]
        self._night_light = self._street_lighting(width, height) if conditions.night else None

    @staticmethod
    def _street_lighting(width: int, height: int) -> np.ndarray:
        """How much light reaches each pixel at night: dim everywhere, pools under the street lamps."""
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        light = np.full((height, width), 0.25, np.float32)
        for lamp_x in (0.15, 0.5, 0.85):
            light += 0.5 * np.exp(
                -(
                    ((xs - lamp_x * width) / (0.18 * width)) ** 2
                    + ((ys - 0.55 * height) / (0.4 * height)) ** 2
                )
            )
        return cv2.merge([np.clip(light, 0, 1)] * 3)

    def shake(self) -> tuple[int, int]:
        """This frame's camera offset in whole pixels."""
        limit = self.conditions.jitter_px
        if limit <= 0:
            return (0, 0)
        self._offset = np.clip(0.85 * self._offset + self.rng.normal(0, limit * 0.35, 2), -limit, limit)
        return (round(self._offset[0]), round(self._offset[1]))

    def expose(self, frame: np.ndarray) -> np.ndarray:
        """Night darkening (before lights are drawn on top)."""
        if self._night_light is None:
            return frame
        return (frame.astype(np.float32) * self._night_light).astype(np.uint8)

    def finish(self, frame: np.ndarray, offset: tuple[int, int]) -> np.ndarray:
        """Rain streaks, sensor noise and the shake, applied to the whole picture."""
        rain = self.conditions.rain
        if rain > 0:
            streaks = int(rain * 260)
            xs = self.rng.integers(0, self.width, streaks)
            ys = self.rng.integers(0, self.height, streaks)
            tone = 150 if self.conditions.night else 215
            for x, y in zip(xs, ys, strict=True):
                cv2.line(frame, (int(x), int(y)), (int(x) - 2, int(y) + 9), (tone, tone, tone), 1)
        noise = self._noise_bank[int(self.rng.integers(len(self._noise_bank)))]
        frame = cv2.add(frame, noise, dtype=cv2.CV_8U)
        dx, dy = offset
        if (dx, dy) != (0, 0):
            pad = max(abs(dx), abs(dy))
            padded = cv2.copyMakeBorder(frame, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
            frame = padded[pad - dy : pad - dy + self.height, pad - dx : pad - dx + self.width]
        return frame

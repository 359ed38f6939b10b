"""OpenCV's Haar cascades (frontal and profile, shipped in ``opencv-python``'s ``cv2.data``): a cheap extra vote.

Viola-Jones cascades are old and make more false alarms than the CNNs, but they cost little and fail differently
(they see grey-level structure, not learned features), so in a vote they can confirm a face the others doubt. The
profile cascade is trained on faces turned one way; it runs on the mirrored image too. There is no calibrated
score: each hit gets a fixed ``score`` (its ``minNeighbors`` vote count is the only confidence OpenCV gives).
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from tools.errors import ModelUnavailableError
from tools.faces.nms import suppress
from tools.faces.types import Box, Face

FRONTAL = "haarcascade_frontalface_alt2.xml"
PROFILE = "haarcascade_profileface.xml"


def cascade_path(name: str) -> Path:
    """Where ``opencv-python`` ships the cascade ``name``."""
    return Path(cv2.data.haarcascades) / name  # type: ignore[attr-defined]


class HaarDetector:
    """Frontal + profile (both directions) Haar cascades on a grey, equalised image of ``work_side_px``."""

    name = "opencv-haar"

    def __init__(self, score: float = 0.6, min_neighbors: int = 5, work_side_px: int = 1024) -> None:
        for file in (FRONTAL, PROFILE):
            if not cascade_path(file).is_file():
                raise ModelUnavailableError(f"OpenCV cascade {file} is missing from {cv2.data.haarcascades}")  # type: ignore[attr-defined]
        self._frontal = cv2.CascadeClassifier(str(cascade_path(FRONTAL)))
        self._profile = cv2.CascadeClassifier(str(cascade_path(PROFILE)))
        self.score = score
        self.min_neighbors = min_neighbors
        self.work_side_px = work_side_px
        self._lock = threading.Lock()

    def detect(self, image_rgb: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 image (H, W, 3), boxes in its pixels, sorted left to right."""
        image = np.ascontiguousarray(image_rgb[..., :3])
        height, width = image.shape[:2]
        scale = min(1.0, self.work_side_px / max(height, width))
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        if scale < 1.0:
            grey = cv2.resize(grey, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        grey = cv2.equalizeHist(grey)
        small_width = grey.shape[1]
        found: list[tuple[float, float, float, float]] = []
        with self._lock:
            for cascade, mirrored in ((self._frontal, False), (self._profile, False), (self._profile, True)):
                source = cv2.flip(grey, 1) if mirrored else grey
                hits = cascade.detectMultiScale(
                    source, scaleFactor=1.1, minNeighbors=self.min_neighbors, minSize=(20, 20)
                )
                for x, y, w, h in np.asarray(hits).reshape(-1, 4):
                    x0 = small_width - (x + w) if mirrored else x
                    found.append((float(x0), float(y), float(x0 + w), float(y + h)))
        faces = [
            Face(
                box=Box(x0 / scale, y0 / scale, x1 / scale, y1 / scale).clipped(width, height),
                score=self.score,
                detector=self.name,
            )
            for x0, y0, x1, y1 in found
        ]
        return sorted(suppress(faces), key=lambda f: f.box.x0)

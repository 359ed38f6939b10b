"""dlib's HOG + linear SVM frontal face detector: slower and frontal-only, kept as a classic baseline."""

from __future__ import annotations

import threading

import numpy as np

from tools.faces.types import Box, Face


class DlibHogDetector:
    """dlib HOG detector; ``upsample`` doubles the image that many times to find small faces."""

    name = "dlib-hog"

    def __init__(self, upsample: int = 1, min_score: float = 0.0) -> None:
        import dlib

        self._detector = dlib.get_frontal_face_detector()
        self.upsample = upsample
        self.min_score = min_score
        self._lock = threading.Lock()

    def detect(self, image_rgb: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 image (H, W, 3); ``score`` is the SVM margin squashed to (0, 1)."""
        image = np.ascontiguousarray(image_rgb[..., :3])
        with self._lock:
            rects, scores, _ = self._detector.run(image, self.upsample, self.min_score)
        height, width = image.shape[:2]
        faces = []
        for rect, score in zip(rects, scores, strict=True):
            box = Box(float(rect.left()), float(rect.top()), float(rect.right() + 1), float(rect.bottom() + 1))
            faces.append(
                Face(box=box.clipped(width, height), score=float(1.0 / (1.0 + np.exp(-score))), detector=self.name)
            )
        return sorted(faces, key=lambda f: f.box.x0)

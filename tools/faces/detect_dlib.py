"""dlib's HOG + linear SVM frontal face detector: slower and frontal-only, kept as a classic baseline."""

from __future__ import annotations

import threading

import numpy as np

from tools.faces.types import Box, Face


class DlibHogDetector:
    """dlib HOG detector; ``upsample`` doubles the image that many times to find small faces. ``max_side_px``
    shrinks larger images first (HOG's cost grows with the upsampled area: a 2560 px photo upsampled once takes
    tens of seconds); None keeps every image as it is."""

    name = "dlib-hog"

    def __init__(self, upsample: int = 1, min_score: float = 0.0, max_side_px: int | None = None) -> None:
        import dlib

        self._detector = dlib.get_frontal_face_detector()
        self.upsample = upsample
        self.min_score = min_score
        self.max_side_px = max_side_px
        self._lock = threading.Lock()

    def detect(self, image_rgb: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 image (H, W, 3); ``score`` is the SVM margin squashed to (0, 1)."""
        image = np.ascontiguousarray(image_rgb[..., :3])
        height, width = image.shape[:2]
        scale = 1.0
        if self.max_side_px is not None and max(height, width) > self.max_side_px:
            import cv2

            scale = self.max_side_px / max(height, width)
            image = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        with self._lock:
            rects, scores, _ = self._detector.run(image, self.upsample, self.min_score)
        faces = []
        for rect, score in zip(rects, scores, strict=True):
            box = Box(rect.left() / scale, rect.top() / scale, (rect.right() + 1) / scale, (rect.bottom() + 1) / scale)
            faces.append(
                Face(box=box.clipped(width, height), score=float(1.0 / (1.0 + np.exp(-score))), detector=self.name)
            )
        return sorted(faces, key=lambda f: f.box.x0)

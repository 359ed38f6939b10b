"""dlib's 68-point (iBUG 300-W) and 5-point shape predictors, run on each face box."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from tools.faces.dlib_models import SHAPE_5_FILE, SHAPE_68_FILE, dlib_model_path
from tools.faces.types import Face


class DlibLandmarks68:
    """Adds ``Face.landmarks68`` (68, 2) from dlib's shape predictor (about 2 ms per face)."""

    name = "dlib-68"

    def __init__(self) -> None:
        import dlib

        self._dlib = dlib
        self._predictor = dlib.shape_predictor(str(dlib_model_path(SHAPE_68_FILE)))
        self._lock = threading.Lock()

    def add_landmarks(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> None:
        image = np.ascontiguousarray(image_rgb[..., :3])
        for face in faces:
            rect = self._dlib.rectangle(
                round(face.box.x0), round(face.box.y0), round(face.box.x1), round(face.box.y1)
            )
            with self._lock:
                shape = self._predictor(image, rect)
            face.landmarks68 = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)


def dlib_shape5_predictor() -> object:
    """dlib's 5-point predictor (eye corners and nose base), which ``dlib.get_face_chip`` aligns with."""
    import dlib

    return dlib.shape_predictor(str(dlib_model_path(SHAPE_5_FILE)))

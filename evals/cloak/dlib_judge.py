"""dlib's own C++ recognizer (dlib-bin) as the judge of a cloak, independent of the PyTorch port the cloak used.

It is the same network as the port (so success against it is white-box, not transfer), but reached through dlib's own
shape predictor, chip extraction and arithmetic. The face is located with the original photo's box, so a cloak cannot
"protect" by merely breaking detection.
"""

from __future__ import annotations

import io
from functools import cache

import numpy as np
from PIL import Image

from tools.faces.dlib_models import SHAPE_5_FILE, dlib_model_path
from tools.faces.dlib_resnet.chip import box_to_dlib_rect
from tools.faces.types import Box

THRESHOLD = 0.6


@cache
def _dlib() -> tuple[object, object]:
    import dlib

    predictor = dlib.shape_predictor(str(dlib_model_path(SHAPE_5_FILE)))
    recognizer = dlib.face_recognition_model_v1(str(dlib_model_path("dlib_face_recognition_resnet_model_v1.dat")))
    return predictor, recognizer


def descriptor(image_rgb: np.ndarray, box: Box) -> np.ndarray:
    """dlib-bin's 128-d descriptor of the face in ``box``."""
    predictor, recognizer = _dlib()
    height, width = image_rgb.shape[:2]
    image = np.ascontiguousarray(image_rgb, dtype=np.uint8)
    shape = predictor(image, box_to_dlib_rect(box, width, height))  # type: ignore[operator]
    return np.asarray(recognizer.compute_face_descriptor(image, shape), dtype=np.float64)  # type: ignore[attr-defined]


def reupload(image_rgb: np.ndarray, quality: int = 75, scale: float = 0.5) -> np.ndarray:
    """A real re-upload: JPEG at ``quality`` (Pillow's libjpeg), then resized by ``scale`` (bilinear)."""
    buffer = io.BytesIO()
    Image.fromarray(image_rgb).save(buffer, format="JPEG", quality=quality)
    decoded = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    size = (max(1, round(decoded.width * scale)), max(1, round(decoded.height * scale)))
    return np.asarray(decoded.resize(size, Image.Resampling.BILINEAR), dtype=np.uint8)


def scaled(box: Box, scale: float) -> Box:
    return Box(box.x0 * scale, box.y0 * scale, box.x1 * scale, box.y1 * scale)

"""Face crops for expression models: square, with a margin, upright when the eyes are known.

Expression classifiers are trained on roughly upright, loosely cropped faces (FER2013 faces fill a 48 px square
with a little forehead and chin). One similarity warp does the square crop, the margin, the rotation that levels
the eyes and the resize together; pixels outside the image are filled by replicating the border, so a face at the
edge of a frame does not get a black band the model was never trained on.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from tools.faces.types import Face

# ITU-R BT.601 luma, as cv2.COLOR_RGB2GRAY and fer's own preprocessing use.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def eye_roll_rad(face: Face) -> float:
    """Angle (radians) of the line between the eyes, image-left eye to image-right eye; 0 without landmarks.

    Uses ``landmarks5`` rows 0 and 1 (the two eyes, image-left first).
    """
    if face.landmarks5 is None:
        return 0.0
    left, right = np.asarray(face.landmarks5[0], dtype=np.float64), np.asarray(face.landmarks5[1], dtype=np.float64)
    return math.atan2(float(right[1] - left[1]), float(right[0] - left[0]))


def face_crop(image_rgb: np.ndarray, face: Face, size_px: int, margin: float, align: bool = True) -> np.ndarray:
    """A (size_px, size_px, 3) uint8 crop of ``face`` from an RGB uint8 image (H, W, 3).

    The square is the longer side of ``face.box`` grown by ``margin`` of that side on every side, centred on the
    box, rotated by the eye-line angle when ``align`` and ``face.landmarks5`` are set.
    """
    box = face.box
    side = max(box.width, box.height) * (1.0 + 2.0 * margin)
    cx, cy = box.center
    angle = eye_roll_rad(face) if align else 0.0
    scale = size_px / max(side, 1e-6)
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    # Maps image -> crop: rotate by -angle about the box centre, scale, then move the centre to the crop centre.
    matrix = np.array(
        [[cos, sin, size_px / 2.0 - (cos * cx + sin * cy)], [-sin, cos, size_px / 2.0 - (-sin * cx + cos * cy)]],
        dtype=np.float64,
    )
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    crop = cv2.warpAffine(
        np.ascontiguousarray(image_rgb),
        matrix,
        (size_px, size_px),
        flags=interpolation,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return np.asarray(crop, dtype=np.uint8)


def to_gray(crops_rgb: np.ndarray) -> np.ndarray:
    """(..., 3) uint8 RGB -> (...) float32 luma in [0, 255]."""
    return np.asarray(crops_rgb, dtype=np.float32) @ _LUMA

"""The face crop the attack model reads: a similarity-aligned square around the 5 landmarks, with some margin.

Every crop, in training synthesis and at inference, comes from ``align_face`` so that the model sees faces at the
same scale and position in both. The template is insightface's ArcFace 5-point layout (112 px), pulled towards
the centre so the crop also shows forehead, cheeks and a little background: the paper edge of a print, the bezel
of a screen and the boundary of a face swap live there.
"""

from __future__ import annotations

from typing import Final

import cv2
import numpy as np

from tools.errors import NoFaceError

# ArcFace template (image-left eye, image-right eye, nose, image-left mouth corner, image-right mouth corner) for
# a 112 px crop; it matches ``Face.landmarks5`` (subject's right eye first = image left).
ARCFACE_112: Final[np.ndarray] = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]]
)
CROP_MARGIN: Final[float] = 0.8  # the template is scaled by this about the centre: 25% more context than ArcFace
ALIGNED_SIZE_PX: Final[int] = 128  # synthesis works at this size; the model resizes to its own input size


def template(size_px: int = ALIGNED_SIZE_PX, margin: float = CROP_MARGIN) -> np.ndarray:
    """The (5, 2) landmark positions in a ``size_px`` crop."""
    centred = (ARCFACE_112 - 56.0) * margin + 56.0
    return centred * (size_px / 112.0)


def align_face(image_rgb: np.ndarray, landmarks5: np.ndarray, size_px: int = ALIGNED_SIZE_PX) -> np.ndarray:
    """The aligned RGB crop (size_px, size_px, 3) of the face whose 5 landmarks (5, 2) are given in pixels.

    Raises ``NoFaceError`` when the landmarks are degenerate (a similarity transform cannot be fitted).
    """
    points = np.asarray(landmarks5, dtype=np.float64).reshape(-1, 2)
    if points.shape != (5, 2) or not np.all(np.isfinite(points)):
        raise NoFaceError(f"need 5 finite landmarks to align a face; got shape {points.shape}")
    matrix, _ = cv2.estimateAffinePartial2D(points, template(size_px), method=cv2.LMEDS)
    if matrix is None:
        raise NoFaceError("the face's 5 landmarks are degenerate; cannot align the face")
    return cv2.warpAffine(
        np.ascontiguousarray(image_rgb), matrix, (size_px, size_px), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT
    )


def interocular_px(landmarks5: np.ndarray) -> float:
    """Distance between the eye centres in pixels: the face's size as the model cares about it."""
    points = np.asarray(landmarks5, dtype=np.float64)
    return float(np.linalg.norm(points[0] - points[1]))


def is_grayscale(image_rgb: np.ndarray, tolerance: int = 2) -> bool:
    """True when the three channels agree everywhere (a grayscale photo decoded to RGB)."""
    image = np.asarray(image_rgb).astype(np.int16)
    return bool(
        np.abs(image[..., 0] - image[..., 1]).max() <= tolerance
        and np.abs(image[..., 1] - image[..., 2]).max() <= tolerance
    )

"""Where a cloak may change pixels: the face itself, never the background, hair or clothes.

The region is the convex hull of the 478-point mesh grown by a few percent of the face size (so the jaw line and
brow are inside), with a feathered edge so the change fades out instead of ending at a visible seam. A face without
a mesh falls back to an ellipse inside its detection box.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from tools.faces.types import Face

GROW_FRACTION = 0.06
FEATHER_FRACTION = 0.05


def face_region_mask(face: Face, height: int, width: int) -> np.ndarray:
    """A float32 (H, W) mask in [0, 1]: 1 on the face, fading to 0 just outside it."""
    size = max(face.box.width, face.box.height)
    hard = np.zeros((height, width), dtype=np.uint8)
    if face.mesh is not None and len(face.mesh) >= 3:
        points = np.asarray(face.mesh, dtype=np.float64)[:, :2]
        hull = cv2.convexHull(np.round(points).astype(np.int32))
        cv2.fillConvexPoly(hard, hull, 1)
        grow = max(1, round(GROW_FRACTION * size))
        hard = cv2.dilate(hard, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    else:
        box = face.box
        center = (round((box.x0 + box.x1) / 2), round((box.y0 + box.y1) / 2))
        axes = (max(1, round(box.width * 0.45)), max(1, round(box.height * 0.55)))
        cv2.ellipse(hard, center, axes, 0, 0, 360, 1, thickness=-1)
    feather = max(1, round(FEATHER_FRACTION * size))
    soft = cv2.GaussianBlur(hard.astype(np.float32), (0, 0), sigmaX=feather)
    # A blurred step is 0.5 on the edge: doubling it keeps the whole face at 1 and fades out just outside.
    return np.clip(2.0 * soft, 0.0, 1.0).astype(np.float32)


def union_mask(faces: Sequence[Face], height: int, width: int) -> np.ndarray:
    """The region of several faces (H, W) float32 in [0, 1]."""
    mask = np.zeros((height, width), dtype=np.float32)
    for face in faces:
        mask = np.maximum(mask, face_region_mask(face, height, width))
    return mask

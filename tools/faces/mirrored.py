"""Detection on the mirrored frame: the same detector looking at the picture flipped left to right.

A detector's learned features are not exactly symmetric, and a face in full profile is seen as well facing one way
as the other only in theory: on the benchmark's grainy war photo, BlazeFace misses a soldier's profile facing left
and finds it (0.59) facing right. The mirrored pass costs one more run of the inner detector; boxes (and five
landmarks, whose left/right order is swapped back) are mapped to the original frame.
"""

from __future__ import annotations

import numpy as np

from tools.faces.protocols import Detector
from tools.faces.types import Box, Face

# Face.landmarks5 order (subject's right eye, left eye, nose, right mouth corner, left mouth corner) after a flip.
_SWAP = [1, 0, 2, 4, 3]


class MirroredDetector:
    """Runs ``inner`` on the image flipped left to right and maps its faces back."""

    def __init__(self, inner: Detector) -> None:
        self.inner = inner
        self.name = f"{inner.name}-mirrored"

    def detect(self, image_rgb: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 image (H, W, 3) found by ``inner`` on its mirror image; boxes in its pixels."""
        width = image_rgb.shape[1]
        out = []
        for face in self.inner.detect(np.ascontiguousarray(image_rgb[:, ::-1, :3])):
            b = face.box
            moved = Face(box=Box(width - b.x1, b.y0, width - b.x0, b.y1), score=face.score, detector=self.name)
            if face.landmarks5 is not None:
                points = face.landmarks5[_SWAP].copy()
                points[:, 0] = width - points[:, 0]
                moved.landmarks5 = points
            out.append(moved)
        return sorted(out, key=lambda f: f.box.x0)

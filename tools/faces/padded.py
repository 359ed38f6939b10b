"""Detection on a padded frame, for faces cut by the image's edge.

A face half outside the frame has its centre near the border; detectors that scan windows or anchors inside the
image (BlazeFace's anchors, MTCNN's pyramid) then see only part of it at the edge of their input and score it low.
Padding the frame with a replicated border of ``pad_fraction`` of its shorter side puts the visible half in the
middle of the detector's view and gives it a plausible continuation. Boxes are mapped back and clipped to the
original frame, so a cut face gets the box of its visible part (and the hiding covers the edge).
"""

from __future__ import annotations

import cv2
import numpy as np

from tools.faces.protocols import Detector
from tools.faces.types import Box, Face


class PaddedDetector:
    """Runs ``inner`` on the frame padded by ``pad_fraction`` of its shorter side on every edge."""

    def __init__(self, inner: Detector, pad_fraction: float = 0.25) -> None:
        self.inner = inner
        self.pad_fraction = pad_fraction
        self.name = f"{inner.name}-padded"

    def detect(self, image_rgb: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 image (H, W, 3) found by ``inner`` on its padded copy; boxes in its pixels."""
        image = np.ascontiguousarray(image_rgb[..., :3])
        height, width = image.shape[:2]
        pad = max(8, round(min(height, width) * self.pad_fraction))
        padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
        out = []
        for face in self.inner.detect(padded):
            b = face.box
            box = Box(b.x0 - pad, b.y0 - pad, b.x1 - pad, b.y1 - pad)
            clipped = box.clipped(width, height)
            # A "face" wholly inside the padding is the border's texture, not a face in the picture.
            if clipped.area < 0.3 * box.area:
                continue
            moved = Face(box=clipped, score=face.score, detector=self.name)
            if face.landmarks5 is not None:
                moved.landmarks5 = face.landmarks5 - pad
            out.append(moved)
        return sorted(out, key=lambda f: f.box.x0)

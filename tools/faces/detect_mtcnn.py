"""MTCNN (P-Net, R-Net, O-Net cascade; Zhang et al. 2016) with the weights that ship in the ``facenet-pytorch`` wheel.

``facenet-pytorch`` is installed without its dependencies (``scripts/setup.sh``); its MTCNN code imports with what
Mien already has (torch, torchvision, numpy, Pillow). MTCNN is a different family from BlazeFace (an image pyramid
of 12x12 windows refined by two more networks, trained on WIDER FACE), so it finds faces BlazeFace misses: small
faces in groups, turned heads, masks that hide the mouth. It also gives five landmarks.

Large photos are shrunk so that the longer side is at most ``max_side_px`` before the pyramid (the cost grows
with the image area over the smallest face size squared); boxes are mapped back to the input's pixels.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import cv2
import numpy as np

from tools.errors import ModelUnavailableError
from tools.faces.types import Box, Face


def mtcnn_weights_dir() -> Path | None:
    """``facenet_pytorch/data`` (pnet.pt, rnet.pt, onet.pt), or None when the package is not installed."""
    spec = importlib.util.find_spec("facenet_pytorch")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    return folder if (folder / "onet.pt").is_file() else None


class MtcnnDetector:
    """MTCNN on CPU. ``min_score`` applies to O-Net's face probability; ``min_face_px`` is the smallest face (in the
    shrunk image) the pyramid looks for. Thread-safe (calls are serialised)."""

    name = "mtcnn"

    def __init__(
        self,
        min_score: float = 0.9,
        min_face_px: int = 20,
        max_side_px: int = 1280,
        stage_thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
    ) -> None:
        if mtcnn_weights_dir() is None:
            raise ModelUnavailableError(
                "MTCNN needs the facenet-pytorch wheel (its weights): pip install --no-deps facenet-pytorch==2.6.0"
            )
        from facenet_pytorch import MTCNN

        self.min_score = min_score
        self.max_side_px = max_side_px
        self._model = MTCNN(
            keep_all=True,
            device="cpu",
            min_face_size=min_face_px,
            thresholds=list(stage_thresholds),
            post_process=False,
        )
        self._lock = threading.Lock()

    def detect(self, image_rgb: np.ndarray) -> list[Face]:
        """Faces in an RGB uint8 image (H, W, 3), with ``landmarks5``; boxes in its pixels, sorted left to right."""
        import torch

        image = np.ascontiguousarray(image_rgb[..., :3])
        height, width = image.shape[:2]
        scale = min(1.0, self.max_side_px / max(height, width))
        small = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
        with self._lock, torch.inference_mode():
            boxes, probs, points = self._model.detect(small if scale < 1.0 else image, landmarks=True)
        if boxes is None:
            return []
        faces = []
        for box, prob, landmarks in zip(boxes, probs, points, strict=True):
            if prob is None or float(prob) < self.min_score:
                continue
            x0, y0, x1, y1 = (float(v) / scale for v in box)
            face = Face(box=Box(x0, y0, x1, y1).clipped(width, height), score=float(prob), detector=self.name)
            # MTCNN's points: image-left eye, image-right eye, nose, image-left and image-right mouth corners,
            # which is Face.landmarks5's order (subject's right eye first).
            face.landmarks5 = (np.asarray(landmarks, dtype=np.float32) / scale).reshape(5, 2)
            if face.box.area > 0:
                faces.append(face)
        return sorted(faces, key=lambda f: f.box.x0)

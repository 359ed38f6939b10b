"""Reference photos -> square face crops and identity embeddings, with the Mien face pipeline.

Training on the face region (1.8x the detector box, square, inside the photo) rather than whole photos puts the
few available steps on the identity; the identity embedding (the configured recognizer, dlib's ResNet by default) is
what the ID-Enhancer reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from tools.errors import ConfigError, MienError, NoFaceError
from tools.faces.pipeline import FaceOptions, analyze_image
from tools.faces.types import Face
from tools.media import load_image

CROP_MARGIN = 1.8


@dataclass(frozen=True)
class ReferenceFace:
    """One reference photo's face: ``crop`` (side, side, 3) uint8 RGB, ``embedding`` (dim,) L2-normalised."""

    path: str
    crop: np.ndarray
    embedding: np.ndarray
    embedder: str


def square_crop(image_rgb: np.ndarray, face: Face, side: int) -> np.ndarray:
    """A square of ``CROP_MARGIN`` times the face box around its centre at ``side`` px, shifted (and if need be
    shrunk) to stay inside the photo: padding would add edge streaks that training would learn as part of the face."""
    box = face.box
    height, width = image_rgb.shape[:2]
    size = max(1, min(round(CROP_MARGIN * max(box.x1 - box.x0, box.y1 - box.y0)), width, height))
    cx, cy = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
    x0 = min(max(0, round(cx - size / 2)), width - size)
    y0 = min(max(0, round(cy - size / 2)), height - size)
    patch = image_rgb[y0 : y0 + size, x0 : x0 + size]
    return cv2.resize(patch, (side, side), interpolation=cv2.INTER_AREA if size > side else cv2.INTER_CUBIC)


def reference_faces(paths: Sequence[str | Path], side: int, embedder: str | None = None) -> list[ReferenceFace]:
    """One face per photo; no face, or several faces, in a photo is an error naming the photo."""
    if not paths:
        raise ConfigError("personalization needs at least one photo of the person")
    references = []
    for path in paths:
        image = load_image(path)
        faces = analyze_image(image, FaceOptions(mesh=False, pose=False, embeddings=True, embedder=embedder))
        if not faces:
            raise NoFaceError(f"{path}: no face found; each photo must show the person's face")
        if len(faces) > 1:
            raise MienError(f"{path}: {len(faces)} faces found; each photo must show only the person to learn")
        face = faces[0]
        assert face.embedding is not None
        references.append(
            ReferenceFace(str(path), square_crop(image, face, side), face.embedding.astype(np.float32), face.embedder)
        )
    return references

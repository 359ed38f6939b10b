"""The small protocols every face backend implements. A backend fills parts of the shared ``Face``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from tools.faces.types import Face


@runtime_checkable
class Detector(Protocol):
    """Finds faces. ``detect`` takes an RGB uint8 image (H, W, 3) and returns faces with box and score."""

    name: str

    def detect(self, image_rgb: np.ndarray) -> list[Face]: ...


@runtime_checkable
class Landmarker(Protocol):
    """Adds landmarks to faces already detected in ``image_rgb`` (RGB uint8, (H, W, 3)), in place."""

    name: str

    def add_landmarks(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> None: ...


@runtime_checkable
class Embedder(Protocol):
    """Turns faces into identity vectors.

    ``embed`` returns an (n, dim) float32 array of L2-normalised vectors, one row per face, in order. A backend
    aligns with what it needs and finds it itself when missing (dlib-resnet runs dlib's 5-point predictor on
    ``Face.box``; arcface-onnx uses ``landmarks5``, else ``landmarks68``, else dlib's 68 points). ``match_threshold`` is
    the cosine similarity at or above which two vectors are taken to be the same person for this backend.
    """

    name: str
    dim: int
    match_threshold: float

    def embed(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray: ...

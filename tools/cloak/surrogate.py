"""White-box surrogate recognizers: the path from the original image's pixels to an identity embedding, in torch.

A cloak is found by gradient steps through a recognizer; it must see the image exactly as that recognizer would,
alignment included, or the gradients point somewhere else. ``DlibSurrogate`` is dlib's ResNet rebuilt in PyTorch with
its chip warp rebuilt too (``tools.faces.dlib_resnet``). ``ArcFaceSurrogate`` converts a user's ArcFace ONNX model to
torch with onnx2torch and rebuilds the 5-point ArcFace alignment with ``grid_sample``. Each reports distances in its
own metric with its own same-person threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.nn.functional as F

from tools.errors import ModelUnavailableError, NoFaceError
from tools.faces.types import Face


class Surrogate(Protocol):
    """A differentiable recognizer. ``prepare`` fixes the alignment of ``faces`` on the original image (the cloak
    must not be able to "win" by moving the alignment); ``embed`` maps an image tensor (3, H, W) float 0-255 RGB to
    (n, d) embeddings; ``distance`` compares two (n, d) batches row by row; same person below ``threshold``."""

    name: str
    threshold: float

    def prepare(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> Any: ...

    def embed(self, image: torch.Tensor, prepared: Any) -> torch.Tensor: ...

    def distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor: ...


class DlibSurrogate:
    """dlib's ResNet (the port, equal to dlib to ~5e-7 on dlib's own chips); Euclidean distance, threshold 0.6."""

    name = "dlib-resnet"
    threshold = 0.6

    def __init__(self) -> None:
        from tools.faces.dlib_resnet.embedder import DlibResnetEmbedder

        self._embedder = DlibResnetEmbedder()

    def prepare(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> Any:
        return self._embedder.chip_geometries(image_rgb, faces)

    def embed(self, image: torch.Tensor, prepared: Any) -> torch.Tensor:
        return self._embedder.differentiable_descriptors(image, prepared)

    def distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.linalg.vector_norm(a - b, dim=-1)


@dataclass(frozen=True)
class _ArcFaceCrops:
    grids: torch.Tensor  # (n, size, size, 2) sampling positions in grid_sample's [-1, 1] coordinates


class ArcFaceSurrogate:
    """An ArcFace ONNX model converted to torch; distance 1 - cosine, same person below 1 - the embedder's
    cosine threshold."""

    name = "arcface-onnx"

    def __init__(self, model_path: str | Path | None = None) -> None:
        from tools.faces.arcface_onnx import ArcFaceOnnxEmbedder, normalisation_in_graph

        embedder = ArcFaceOnnxEmbedder(model_path)
        self.model_path = embedder.model_path
        self.threshold = 1.0 - float(embedder.match_threshold)
        self._scale_outside = not normalisation_in_graph(self.model_path)
        self._size = 112
        self._network = convert_onnx(self.model_path)

    def prepare(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> Any:
        from tools.faces.arcface_onnx import arcface_alignment, arcface_landmarks

        height, width = image_rgb.shape[:2]
        grids = []
        for face in faces:
            points = arcface_landmarks(face)
            if points is None:
                raise NoFaceError(f"face at {face.box.to_list()} has no landmarks to align it for ArcFace")
            grids.append(_inverse_grid(arcface_alignment(points, self._size), self._size, width, height))
        return _ArcFaceCrops(torch.stack(grids) if grids else torch.zeros(0, self._size, self._size, 2))

    def embed(self, image: torch.Tensor, prepared: Any) -> torch.Tensor:
        grids = prepared.grids.to(image)
        crops = F.grid_sample(
            image[None].expand(len(grids), -1, -1, -1), grids, mode="bilinear", padding_mode="zeros", align_corners=True
        )
        if self._scale_outside:
            crops = (crops - 127.5) / 127.5
        return self._network(crops)

    def distance(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return 1.0 - F.cosine_similarity(a, b, dim=-1)


def convert_onnx(model_path: Path) -> torch.nn.Module:
    """An ONNX graph as a torch module in eval mode with frozen weights (onnx2torch)."""
    try:
        import onnx
        from onnx2torch import convert
    except ImportError as error:
        message = f"onnx2torch is not installed, so {model_path} cannot join the surrogates"
        raise ModelUnavailableError(message) from error
    try:
        module = convert(onnx.load(str(model_path)))
    except Exception as error:  # onnx2torch raises plain exceptions for operators it cannot convert
        raise ModelUnavailableError(f"onnx2torch cannot convert {model_path}: {error}") from error
    module.eval()
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module


def _inverse_grid(matrix: np.ndarray, size: int, width: int, height: int) -> torch.Tensor:
    """Sampling grid (size, size, 2) for ``grid_sample`` that reproduces ``cv2.warpAffine(image, matrix, (size,
    size))``: each crop pixel looks up the image pixel that ``matrix`` (2, 3, image → crop) sends to it."""
    full = np.vstack([matrix, [0.0, 0.0, 1.0]])
    inverse = np.linalg.inv(full)[:2]
    v, u = np.meshgrid(np.arange(size, dtype=np.float64), np.arange(size, dtype=np.float64), indexing="ij")
    xy = np.stack([u, v, np.ones_like(u)], axis=-1) @ inverse.T  # (size, size, 2) image pixels
    normalised = np.stack([2.0 * xy[..., 0] / max(width - 1, 1) - 1.0, 2.0 * xy[..., 1] / max(height - 1, 1) - 1.0], -1)
    return torch.as_tensor(normalised, dtype=torch.float32)


def build_surrogates(names: Sequence[str], arcface_path: str | Path | None = None) -> list[Surrogate]:
    """The surrogate ensemble by name (``dlib-resnet``, ``arcface-onnx``)."""
    built: list[Surrogate] = []
    for name in names:
        if name == DlibSurrogate.name:
            built.append(DlibSurrogate())
        elif name == ArcFaceSurrogate.name:
            built.append(ArcFaceSurrogate(arcface_path))
        else:
            raise ModelUnavailableError(f"unknown surrogate recognizer {name!r}; known: dlib-resnet, arcface-onnx")
    return built

"""The ``dlib-resnet`` embedder: dlib's alignment and chip, the ResNet in PyTorch, all faces in one forward pass."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from tools.errors import MienError
from tools.faces.dlib_resnet.chip import (
    CHIP_SIZE_PX,
    ChipGeometry,
    DlibChipper,
    as_rgb_uint8,
    chip_geometry,
    shape_points,
    warp_chips,
)
from tools.faces.dlib_resnet.network import DESCRIPTOR_DIM, chips_to_tensor, load_dlib_resnet
from tools.faces.types import Face
from tools.settings import get_settings

DLIB_MATCH_THRESHOLD = 0.905


class DlibResnetEmbedder:
    """dlib's face-recognition ResNet (128-d) run in PyTorch; equal to dlib's own descriptors to ~5e-7.

    ``embed`` needs only ``Face.box``: dlib's ``shape_predictor_5`` runs on each box (about 2 ms) and
    ``dlib.get_face_chip`` cuts the 150x150 chip, exactly as ``compute_face_descriptor`` does; all faces of a call
    then go through the network in one forward pass.

    ``match_threshold`` (0.905 cosine) is the cosine equivalent of dlib's rule "same person when the Euclidean
    distance of raw descriptors is below 0.6" (the threshold stored in the .dat file). Raw descriptors are nearly
    constant in length, so the rule maps onto a cosine. Measured on 118 raw descriptors of real faces (dlib HOG
    boxes): the six people of t1.jpg; Tom Hanks in 9 versions (the photo, its mirror, 0.6x/0.8x/1.5x rescales,
    +-10 degree rotations, 0.7x brightness, JPEG quality 30); the astronaut in the 3 of those versions where HOG
    found exactly one face; the 100 face crops of scikit-image's ``lfw_subset`` upscaled to 150 px. Norms were
    1.39 +- 0.06 (1.24-1.59), and at equal norms r, ||a - b|| = 0.6 is cos = 1 - 0.18 / r^2 = 0.907. Over the
    6,903 pairs, cosine >= 0.905 agreed with Euclidean < 0.6 on 98.1% of pairs (0.900: 96.9%, 0.910: 97.5%);
    same-person pairs had cosine >= 0.983. Reproduce with ``python -m evals.bench.embeddings --calibrate``.
    """

    name = "dlib-resnet"
    dim = DESCRIPTOR_DIM
    match_threshold = DLIB_MATCH_THRESHOLD

    def __init__(self, weights_path: str | Path | None = None, shape_predictor_path: str | Path | None = None) -> None:
        torch.set_num_threads(get_settings().torch_threads)
        self.network = load_dlib_resnet(weights_path)
        self.chipper = DlibChipper(str(shape_predictor_path) if shape_predictor_path else None)

    def chips(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """(n, 150, 150, 3) uint8 aligned chips of ``faces`` in an RGB uint8 image (H, W, 3)."""
        image = as_rgb_uint8(image_rgb)
        return self.chipper.chips(image, self.chipper.shapes(image, [face.box for face in faces]))

    def chip_geometries(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> list[ChipGeometry]:
        """Where each face's chip sits in the image, for ``warp_chips`` (the differentiable path)."""
        shapes = self.chipper.shapes(as_rgb_uint8(image_rgb), [face.box for face in faces])
        return [chip_geometry(shape_points(shape)) for shape in shapes]

    def descriptors_from_chips(self, chips_rgb: np.ndarray) -> np.ndarray:
        """Raw (un-normalised) dlib descriptors (n, 128) float32 of uint8 chips (n, 150, 150, 3), one forward pass."""
        chips = np.asarray(chips_rgb)
        if chips.ndim != 4 or chips.shape[1:] != (CHIP_SIZE_PX, CHIP_SIZE_PX, 3):
            raise MienError(f"expected face chips of shape (n, 150, 150, 3), got {chips.shape}")
        if len(chips) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        with torch.inference_mode():
            return self.network(chips_to_tensor(chips)).numpy().astype(np.float32)

    def raw_descriptors(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """dlib's raw descriptors (n, 128) float32 of ``faces``, as ``compute_face_descriptor`` gives them."""
        return self.descriptors_from_chips(self.chips(image_rgb, faces))

    def embed(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """L2-normalised embeddings (n, 128) float32 of ``faces`` in an RGB uint8 image (H, W, 3)."""
        raw = self.raw_descriptors(image_rgb, faces)
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        return (raw / np.maximum(norms, 1e-12)).astype(np.float32)

    def differentiable_descriptors(self, image: torch.Tensor, geometries: Sequence[ChipGeometry]) -> torch.Tensor:
        """Raw descriptors (n, 128) of an image tensor (3, H, W) float 0-255 RGB, with gradients to its pixels.

        The chip is rebuilt in torch (``warp_chips``), so it matches dlib's chip to about one grey level and the
        descriptor to about 0.01 (Euclidean), not exactly.
        """
        return self.network(warp_chips(image, geometries))

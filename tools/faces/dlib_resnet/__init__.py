"""dlib's face-recognition ResNet (``dlib_face_recognition_resnet_model_v1.dat``) read with numpy and run in PyTorch.

``reader`` parses and checks the file, ``network`` rebuilds the net (differentiable), ``chip`` cuts the aligned
150x150 chip (dlib's own, or a differentiable torch warp), ``embedder`` is the ``dlib-resnet`` embedder.
Facts and pitfalls of the port: ``shared/design/dlib-resnet.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np

from tools.faces.dlib_resnet.chip import ChipGeometry, DlibChipper, chip_geometry, warp_chips
from tools.faces.dlib_resnet.embedder import DLIB_MATCH_THRESHOLD, DlibResnetEmbedder
from tools.faces.dlib_resnet.network import DlibResnet, load_dlib_resnet
from tools.faces.dlib_resnet.reader import DlibResnetWeights, read_dlib_resnet
from tools.faces.types import Face


def raw_dlib_descriptors(image_rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
    """dlib's raw (un-normalised) 128-d descriptors (n, 128) float32 of ``faces`` in an RGB uint8 image (H, W, 3),
    the values ``dlib.face_recognition_model_v1.compute_face_descriptor`` returns (to ~5e-7)."""
    from tools.faces.embedders import EMBEDDERS  # the registry's instance: weights load once per process

    return cast(DlibResnetEmbedder, EMBEDDERS.build("dlib-resnet")).raw_descriptors(image_rgb, faces)


__all__ = [
    "DLIB_MATCH_THRESHOLD",
    "ChipGeometry",
    "DlibChipper",
    "DlibResnet",
    "DlibResnetEmbedder",
    "DlibResnetWeights",
    "chip_geometry",
    "load_dlib_resnet",
    "raw_dlib_descriptors",
    "read_dlib_resnet",
    "warp_chips",
]

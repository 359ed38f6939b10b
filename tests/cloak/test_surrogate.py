"""The surrogates see the image as the real recognizers do: dlib's port on its torch chip, and an ArcFace ONNX model
converted to torch (tested on a tiny ArcFace-shaped model the test builds: this checks the conversion and the
alignment, not recognition accuracy)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from evals.cloak.dlib_judge import descriptor
from tests.faces.test_embedders import build_tiny_arcface
from tools.cloak.surrogate import ArcFaceSurrogate, DlibSurrogate
from tools.faces.arcface_onnx import ArcFaceOnnxEmbedder
from tools.faces.pipeline import FaceOptions, analyze_image


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.as_tensor(image, dtype=torch.float32).permute(2, 0, 1)


def test_dlib_surrogate_agrees_with_dlib_bin(astronaut: np.ndarray) -> None:
    faces = analyze_image(astronaut, FaceOptions(mesh=True, pose=False, embeddings=False))
    surrogate = DlibSurrogate()
    with torch.no_grad():
        ours = surrogate.embed(_tensor(astronaut), surrogate.prepare(astronaut, faces)).numpy()[0]
    assert np.linalg.norm(ours - descriptor(astronaut, faces[0].box)) < 0.02


def test_arcface_onnx_converted_to_torch_matches_onnxruntime(astronaut: np.ndarray, tmp_path: Path) -> None:
    model = build_tiny_arcface(tmp_path / "w600k_tiny.onnx")
    faces = analyze_image(astronaut, FaceOptions(mesh=True, pose=False, embeddings=False))
    surrogate = ArcFaceSurrogate(model)
    image = _tensor(astronaut).requires_grad_(True)
    ours = surrogate.embed(image, surrogate.prepare(astronaut, faces))
    ours.sum().backward()
    assert image.grad is not None and float(image.grad.abs().sum()) > 0  # gradients reach the original pixels
    reference = ArcFaceOnnxEmbedder(model).embed(astronaut, faces)  # onnxruntime on cv2's aligned crop, normalised
    cosine = float(torch.nn.functional.cosine_similarity(ours.detach(), torch.as_tensor(reference)).item())
    assert cosine > 0.995, cosine
    assert surrogate.threshold == 1.0 - ArcFaceOnnxEmbedder(model).match_threshold

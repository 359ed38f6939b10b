"""The differentiable JPEG stand-in against real libjpeg (Pillow), on a real photo."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from tools.cloak.jpeg import differentiable_jpeg, quantisation_tables


def _libjpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality, subsampling=0)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"), dtype=np.float64)


def test_standard_tables_at_quality_50_are_the_base_tables() -> None:
    tables = quantisation_tables(50)
    assert tables[0, 0, 0] == 16 and tables[0, 7, 7] == 99 and tables[1, 0, 0] == 17
    assert quantisation_tables(100).max() == 1


def test_it_matches_libjpeg_on_a_real_photo(astronaut: np.ndarray) -> None:
    crop = astronaut[60:188, 160:288]  # the face, 128x128
    ours = differentiable_jpeg(torch.as_tensor(crop, dtype=torch.float32).permute(2, 0, 1), 75)
    ours_np = ours.permute(1, 2, 0).numpy()
    real = _libjpeg(crop, 75)
    error_ours = np.abs(ours_np - real).mean()
    error_none = np.abs(crop.astype(np.float64) - real).mean()
    assert error_ours < 1.5, error_ours
    assert error_ours < 0.6 * error_none, (error_ours, error_none)


def test_gradients_pass_through_the_rounding(astronaut: np.ndarray) -> None:
    crop = torch.as_tensor(astronaut[:64, :64], dtype=torch.float32).permute(2, 0, 1).requires_grad_(True)
    differentiable_jpeg(crop, 60).sum().backward()
    assert crop.grad is not None and float(crop.grad.abs().mean()) > 0.5

"""A differentiable stand-in for JPEG compression, so a cloak can be optimised to survive re-upload.

Forward: the real JPEG arithmetic on the luma and chroma planes (RGB→YCbCr, 8x8 DCT, division by the standard
quantisation tables scaled to a quality, rounding, and back). Backward: rounding passes gradients straight through
(Shin & Song 2017), since its true derivative is zero almost everywhere. Chroma subsampling is left out: it removes
colour detail that a cloak on a face barely uses.
"""

from __future__ import annotations

import math
from functools import cache

import torch

_LUMA = [
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
]  # fmt: skip
_CHROMA = [
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, *([99] * 32),
]  # fmt: skip


@cache
def _dct_matrix() -> torch.Tensor:
    """The orthonormal 8-point DCT-II matrix (8, 8)."""
    matrix = torch.zeros(8, 8)
    for k in range(8):
        for n in range(8):
            scale = math.sqrt(1 / 8) if k == 0 else math.sqrt(2 / 8)
            matrix[k, n] = scale * math.cos(math.pi * (2 * n + 1) * k / 16)
    return matrix


def quantisation_tables(quality: int) -> torch.Tensor:
    """The (3, 8, 8) tables (Y, Cb, Cr) that libjpeg uses at ``quality`` (1-100)."""
    quality = min(max(int(quality), 1), 100)
    scale = 5000 / quality if quality < 50 else 200 - 2 * quality
    tables = []
    for base in (_LUMA, _CHROMA, _CHROMA):
        table = torch.tensor(base, dtype=torch.float32).reshape(8, 8)
        tables.append(torch.clamp(torch.floor((table * scale + 50) / 100), 1, 255))
    return torch.stack(tables)


def _round_straight_through(x: torch.Tensor) -> torch.Tensor:
    return x + (torch.round(x) - x).detach()


def differentiable_jpeg(image: torch.Tensor, quality: int) -> torch.Tensor:
    """JPEG-compress an image tensor (3, H, W) float 0-255 RGB; the result has the same shape, with gradients."""
    _, height, width = image.shape
    pad_h, pad_w = (-height) % 8, (-width) % 8
    x = torch.nn.functional.pad(image[None], (0, pad_w, 0, pad_h), mode="replicate")[0]
    r, g, b = x[0], x[1], x[2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = -0.168736 * r - 0.331264 * g + 0.5 * b + 128
    cr = 0.5 * r - 0.418688 * g - 0.081312 * b + 128
    planes = torch.stack((y, cb, cr)) - 128  # (3, H, W)
    c, h, w = planes.shape
    blocks = planes.reshape(c, h // 8, 8, w // 8, 8).permute(0, 1, 3, 2, 4)  # (3, bh, bw, 8, 8)
    dct = _dct_matrix().to(image)
    tables = quantisation_tables(quality).to(image)[:, None, None]
    coefficients = dct @ blocks @ dct.T
    quantised = _round_straight_through(coefficients / tables) * tables
    restored = (dct.T @ quantised @ dct).permute(0, 1, 3, 2, 4).reshape(c, h, w) + 128
    y, cb, cr = restored[0], restored[1] - 128, restored[2] - 128
    rgb = torch.stack((y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb))
    return rgb[:, :height, :width].clamp(0, 255)

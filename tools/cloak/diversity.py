"""Input diversity: random versions of the image that the cloak must fool at once (Xie et al. 2019).

A cloak optimised on one exact image breaks as soon as a social network resizes or recompresses it; averaging the
attack over random resizes, small shifts, noise and JPEG makes it hold after re-upload.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from tools.cloak.jpeg import differentiable_jpeg


@dataclass(frozen=True)
class DiversityRanges:
    """The random transformations: ``scale`` a down-and-up resize factor range, ``shift_px`` the largest
    translation, ``noise`` the standard deviation of Gaussian noise (grey levels), ``jpeg_quality`` a quality range
    and ``p_jpeg`` how often JPEG is applied."""

    scale: tuple[float, float] = (0.4, 1.0)
    shift_px: int = 2
    noise: float = 2.0
    jpeg_quality: tuple[int, int] = (60, 95)
    p_jpeg: float = 0.5


def resize_round_trip(image: torch.Tensor, scale: float) -> torch.Tensor:
    """Downscale (3, H, W) by ``scale`` with antialiasing and back to (H, W), as an upload pipeline would."""
    if scale >= 0.999:
        return image
    small = F.interpolate(image[None], scale_factor=scale, mode="bilinear", align_corners=False, antialias=True)
    return F.interpolate(small, size=image.shape[-2:], mode="bilinear", align_corners=False)[0]


def diversify(image: torch.Tensor, rng: np.random.Generator, ranges: DiversityRanges | None = None) -> torch.Tensor:
    """One random transformation of ``image`` (3, H, W) float 0-255, differentiable in ``image``."""
    ranges = ranges or DiversityRanges()
    x = image
    if ranges.shift_px:
        dx, dy = (int(v) for v in rng.integers(-ranges.shift_px, ranges.shift_px + 1, size=2))
        x = torch.roll(x, shifts=(dy, dx), dims=(1, 2))
    if rng.random() < ranges.p_jpeg:
        x = differentiable_jpeg(x, int(rng.integers(ranges.jpeg_quality[0], ranges.jpeg_quality[1] + 1)))
    x = resize_round_trip(x, float(rng.uniform(*ranges.scale)))
    if ranges.noise:
        x = x + torch.randn(x.shape, generator=torch.Generator().manual_seed(int(rng.integers(2**31)))) * ranges.noise
    return x.clamp(0, 255)

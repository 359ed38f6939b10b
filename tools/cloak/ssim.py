"""SSIM in torch, computed as scikit-image's ``structural_similarity`` does by default, so the cloak can be held to
the same number it is reported with.

scikit-image's defaults: a 7x7 uniform window, sample (N-1) covariances, K1 = 0.01, K2 = 0.03, data range 255, the
mean over pixels at least 3 from the border, averaged over the colour channels.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

WINDOW = 7
_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2


def ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean SSIM of two images (C, H, W) float 0-255; differentiable in both."""
    x, y = a[:, None], b[:, None]  # channels as a batch of grey images
    kernel = torch.full((1, 1, WINDOW, WINDOW), 1.0 / WINDOW**2, dtype=a.dtype, device=a.device)

    def mean(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, kernel)

    correction = WINDOW**2 / (WINDOW**2 - 1)
    mu_x, mu_y = mean(x), mean(y)
    var_x = correction * (mean(x * x) - mu_x**2)
    var_y = correction * (mean(y * y) - mu_y**2)
    cov = correction * (mean(x * y) - mu_x * mu_y)
    numerator = (2 * mu_x * mu_y + _C1) * (2 * cov + _C2)
    denominator = (mu_x**2 + mu_y**2 + _C1) * (var_x + var_y + _C2)
    return (numerator / denominator).mean()

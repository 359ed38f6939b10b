"""FA3's frequency stream: FFT, a high-pass mask, small CNNs on amplitude and phase, a compression block.

Print halftone, screen moire and resampling in face swaps leave periodic, high-frequency traces that a spatial
CNN sees poorly at low resolution but that stand out in the spectrum. The image's grey FFT is high-pass masked
(a radial cut that removes the face's low-frequency shading, which carries identity, not attack). The amplitude
branch reads the centred log-amplitude spectrum; the phase branch reads the phase-only reconstruction
(inverse FFT of the unit-magnitude high-passed spectrum), which is where edges and periodic structure live in the
image plane. The compression block squeezes and re-weights the concatenated channels (channel attention) and
projects them to a compact vector.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_block(channels_in: int, channels_out: int) -> nn.Sequential:
    """3x3 conv, batch norm, ReLU, 2x downsampling: the building block of both small CNNs."""
    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


def strided_block(channels_in: int, channels_out: int) -> nn.Sequential:
    """A 5x5 stride-2 conv first layer: full-resolution spectra are read once, cheaply."""
    return nn.Sequential(
        nn.Conv2d(channels_in, channels_out, 5, stride=2, padding=2, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(inplace=True),
    )


def high_pass_mask(size: int, cutoff: float) -> torch.Tensor:
    """(size, size) mask for an UNshifted FFT: 0 within ``cutoff`` (fraction of Nyquist) of DC, 1 outside,
    with a smooth ramp to avoid ringing."""
    freqs = torch.fft.fftfreq(size) * 2.0  # in [-1, 1), 1 = Nyquist
    radius = torch.sqrt(freqs[:, None] ** 2 + freqs[None, :] ** 2)
    return torch.clamp((radius - cutoff) / (0.5 * cutoff), 0.0, 1.0)


class FrequencyCompression(nn.Module):
    """Squeeze-and-excitation over the concatenated amplitude/phase channels, then a 1x1 projection and pooling."""

    def __init__(self, channels: int, out_dim: int, reduction: int = 4) -> None:
        super().__init__()
        self.excite = nn.Sequential(
            nn.Linear(channels, max(channels // reduction, 4)),
            nn.ReLU(inplace=True),
            nn.Linear(max(channels // reduction, 4), channels),
            nn.Sigmoid(),
        )
        self.project = nn.Conv2d(channels, out_dim, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        weights = self.excite(features.mean(dim=(2, 3)))
        compressed = self.project(features * weights[:, :, None, None])
        return torch.relu(compressed).mean(dim=(2, 3))


class FrequencyStream(nn.Module):
    """(B, 3, S, S) images in [0, 1] -> (B, out_dim) frequency features."""

    def __init__(self, size: int, out_dim: int = 48, cutoff: float = 0.12, width: int = 12) -> None:
        super().__init__()
        self.register_buffer("mask", high_pass_mask(size, cutoff), persistent=False)
        self.amplitude_cnn = nn.Sequential(
            strided_block(1, width), conv_block(width, 2 * width), conv_block(2 * width, 2 * width)
        )
        self.phase_cnn = nn.Sequential(
            strided_block(1, width), conv_block(width, 2 * width), conv_block(2 * width, 2 * width)
        )
        self.compression = FrequencyCompression(4 * width, out_dim)
        self.out_dim = out_dim

    def spectra(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The two maps the CNNs read: centred log-amplitude and phase-only reconstruction, each (B, 1, S, S)."""
        grey = images.mean(dim=1)
        spectrum = torch.fft.fft2(grey - grey.mean(dim=(1, 2), keepdim=True)) * self.mask
        amplitude = torch.log1p(spectrum.abs())
        amplitude = torch.fft.fftshift(amplitude, dim=(-2, -1))
        amplitude = (amplitude - amplitude.mean(dim=(1, 2), keepdim=True)) / (
            amplitude.std(dim=(1, 2), keepdim=True) + 1e-6
        )
        unit = spectrum / (spectrum.abs() + 1e-8)
        phase_only = torch.fft.ifft2(unit).real
        phase_only = phase_only / (phase_only.std(dim=(1, 2), keepdim=True) + 1e-8)
        return amplitude[:, None], phase_only[:, None]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        amplitude, phase = self.spectra(images)
        features = torch.cat([self.amplitude_cnn(amplitude), self.phase_cnn(phase)], dim=1)
        return self.compression(features)

"""FA3 in PyTorch, the small variant: a spatial CNN and the frequency stream, fused, with two heads.

The live/fake head gives one logit (attack > 0); the attack-type head gives logits over ``ATTACK_TYPES``, trained on
attack samples only (a live face has no attack type). ``use_frequency=False`` builds the same model without the
frequency stream, for the ablation that shows what the stream contributes. The CLIP variant
(``tools.attack.clip_model``) replaces the spatial CNN with CLIP's image encoder and the live/fake head with
learnable prompts; both share ``FrequencyStream`` and this module's fusion.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from tools.attack.frequency import FrequencyStream, conv_block
from tools.attack.types import ATTACK_TYPES

MEAN = (0.5, 0.5, 0.5)
STD = (0.25, 0.25, 0.25)


@dataclass(frozen=True)
class FA3Config:
    """Architecture of the small FA3 model; stored with the weights so a checkpoint rebuilds itself."""

    input_size: int = 64
    width: int = 16
    frequency_dim: int = 48
    fused_dim: int = 96
    use_frequency: bool = True
    cutoff: float = 0.12

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SpatialStream(nn.Module):
    """(B, 3, S, S) normalised images -> (B, 4 * width) appearance features (colour, texture, edges)."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            conv_block(3, width),
            conv_block(width, 2 * width),
            conv_block(2 * width, 4 * width),
            conv_block(4 * width, 4 * width),
        )
        self.out_dim = 4 * width

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.layers(images).mean(dim=(2, 3))


class Fusion(nn.Module):
    """Concatenate the streams and mix them: (B, d_spatial [+ d_freq]) -> (B, fused_dim)."""

    def __init__(self, in_dim: int, fused_dim: int) -> None:
        super().__init__()
        self.mix = nn.Sequential(nn.Linear(in_dim, fused_dim), nn.ReLU(inplace=True), nn.Dropout(0.2))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.mix(features)


class FA3Net(nn.Module):
    """Images (B, 3, S, S) in [0, 1] -> (live/fake logit (B,), attack-type logits (B, 4))."""

    def __init__(self, config: FA3Config | None = None) -> None:
        super().__init__()
        self.config = config or FA3Config()
        c = self.config
        self.spatial = SpatialStream(c.width)
        self.frequency = (
            FrequencyStream(c.input_size, c.frequency_dim, c.cutoff, width=c.width // 2) if c.use_frequency else None
        )
        in_dim = self.spatial.out_dim + (c.frequency_dim if self.frequency is not None else 0)
        self.fusion = Fusion(in_dim, c.fused_dim)
        self.live_fake = nn.Linear(c.fused_dim, 1)
        self.attack_type = nn.Linear(c.fused_dim, len(ATTACK_TYPES))
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)

    def fused(self, images: torch.Tensor) -> torch.Tensor:
        parts = [self.spatial((images - self.mean) / self.std)]
        if self.frequency is not None:
            parts.append(self.frequency(images))
        return self.fusion(torch.cat(parts, dim=1))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fused = self.fused(images)
        return self.live_fake(fused).squeeze(1), self.attack_type(fused)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

"""SpottingNet, after FEDN: frame features -> attention over segments and sliding windows -> temporal pyramid ->
per-location heads (class of the interval it lies in, distances to that interval's start and end).

Shapes: input (B, T, D) float; level ``l`` of the pyramid has T / 2**l locations of stride 2**l frames; the heads
are shared across levels and give (B, T_l, K) class logits and (B, T_l, 2) non-negative distances in strides.
Anchor-free, as ActionFormer decodes it: every location inside a ground-truth interval whose length suits the
level predicts that interval.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

KINDS = ("micro", "macro")


@dataclass(frozen=True)
class NetConfig:
    """Sizes of SpottingNet. ``segment``: frames per segment of segment attention; ``window``: half-width of the
    sliding-window attention; ``levels``: pyramid levels (strides 1, 2, 4, ...); ``level_ranges``: the interval
    lengths (frames) each level is responsible for, one (min, max) per level."""

    features: int
    channels: int = 64
    heads: int = 4
    segment: int = 16
    window: int = 8
    levels: int = 4
    classes: int = len(KINDS)
    level_ranges: tuple[tuple[int, int], ...] = ((1, 12), (8, 32), (24, 80), (64, 100_000))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SegmentAttention(nn.Module):
    """Self-attention inside non-overlapping segments of ``segment`` frames (padded at the end)."""

    def __init__(self, channels: int, heads: int, segment: int) -> None:
        super().__init__()
        self.segment = segment
        self.attention = nn.MultiheadAttention(channels, heads, batch_first=True)
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        pad = (-t) % self.segment
        padded = F.pad(x, (0, 0, 0, pad))
        chunks = padded.reshape(b * (t + pad) // self.segment, self.segment, c)
        out, _ = self.attention(chunks, chunks, chunks, need_weights=False)
        return self.norm(x + out.reshape(b, t + pad, c)[:, :t])


class WindowAttention(nn.Module):
    """Self-attention where each frame sees the frames within ``window`` of it (a banded mask)."""

    def __init__(self, channels: int, heads: int, window: int) -> None:
        super().__init__()
        self.window = window
        self.attention = nn.MultiheadAttention(channels, heads, batch_first=True)
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[1]
        index = torch.arange(t, device=x.device)
        mask = (index[None, :] - index[:, None]).abs() > self.window  # True = not attended
        out, _ = self.attention(x, x, x, attn_mask=mask, need_weights=False)
        return self.norm(x + out)


class SpottingNet(nn.Module):
    """The network; ``forward`` returns per-level (class logits (B, T_l, K), distances (B, T_l, 2))."""

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        c = config.channels
        self.project = nn.Sequential(nn.Linear(config.features, c), nn.GELU(), nn.Linear(c, c))
        self.segment = SegmentAttention(c, config.heads, config.segment)
        self.window = WindowAttention(c, config.heads, config.window)
        self.down = nn.ModuleList(
            [nn.Conv1d(c, c, kernel_size=3, stride=2, padding=1) for _ in range(config.levels - 1)]
        )
        self.cls_head = nn.Sequential(
            nn.Conv1d(c, c, 3, padding=1), nn.GELU(), nn.Conv1d(c, config.classes, 3, padding=1)
        )
        self.reg_head = nn.Sequential(nn.Conv1d(c, c, 3, padding=1), nn.GELU(), nn.Conv1d(c, 2, 3, padding=1))
        nn.init.constant_(self.cls_head[-1].bias, -4.0)  # rare positives: start with low scores (focal-loss prior)

    def forward(self, features: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        x = self.window(self.segment(self.project(features)))
        level = x.transpose(1, 2)  # (B, C, T)
        outputs = []
        for index in range(self.config.levels):
            if index > 0:
                level = F.gelu(self.down[index - 1](level))
            logits = self.cls_head(level).transpose(1, 2)
            distances = F.relu(self.reg_head(level)).transpose(1, 2)
            outputs.append((logits, distances))
        return outputs

"""Targets and losses of SpottingNet: anchor-free location targets, BCE on classes, 1-D DIoU on distances.

1-D DIoU of a predicted interval p and a target g: 1 - IoU(p, g) + (centre distance / length of their hull)^2,
computed from the distances to start and end that both give from the same location.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn import functional as F

from tools.spotting.fedn.model import NetConfig


def location_targets(
    intervals: Sequence[tuple[int, int, int]], length: int, config: NetConfig
) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Per level: (class targets (T_l, K) 0/1, distance targets (T_l, 2) in strides, positive mask (T_l,)).

    ``intervals`` are (onset, offset, class) with inclusive frames. A location (centre ``(i + 0.5) * stride``)
    is positive for the shortest interval containing it whose length is in the level's range.
    """
    out = []
    for level in range(config.levels):
        stride = 2**level
        size = (length + stride - 1) // stride
        cls = torch.zeros(size, config.classes)
        reg = torch.zeros(size, 2)
        positive = torch.zeros(size, dtype=torch.bool)
        low, high = config.level_ranges[level]
        best = torch.full((size,), float("inf"))
        centres = (torch.arange(size, dtype=torch.float32) + 0.5) * stride
        for onset, offset, kind in intervals:
            span = offset - onset + 1
            if not low <= span <= high:
                continue
            start, end = float(onset), float(offset + 1)
            inside = (centres >= start) & (centres <= end) & (span < best)
            # The centre third of a short interval at a coarse level may hold no location centre: take the nearest.
            if not inside.any():
                nearest = int(torch.argmin((centres - (start + end) / 2).abs()))
                inside[nearest] = span < best[nearest]
            best[inside] = span
            positive |= inside
            cls[inside] = 0.0
            cls[inside, kind] = 1.0
            reg[inside, 0] = (centres[inside] - start) / stride
            reg[inside, 1] = (end - centres[inside]) / stride
        out.append((cls, reg.clamp(min=0.0), positive))
    return out


def diou_1d(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """(N,) 1-D DIoU loss of (N, 2) predicted and target (distance to start, distance to end), same location."""
    p_start, p_end = -pred[:, 0], pred[:, 1]
    g_start, g_end = -target[:, 0], target[:, 1]
    inter = (torch.minimum(p_end, g_end) - torch.maximum(p_start, g_start)).clamp(min=0.0)
    union = (p_end - p_start) + (g_end - g_start) - inter
    iou = inter / union.clamp(min=1e-6)
    hull = (torch.maximum(p_end, g_end) - torch.minimum(p_start, g_start)).clamp(min=1e-6)
    centre = ((p_start + p_end) - (g_start + g_end)) / 2.0
    return 1.0 - iou + (centre / hull) ** 2


def spotting_loss(
    outputs: Sequence[tuple[torch.Tensor, torch.Tensor]],
    targets: Sequence[Sequence[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]],
) -> tuple[torch.Tensor, dict[str, float]]:
    """BCE over every location's classes plus DIoU over positive locations, both normalised by the positives.

    ``outputs`` per level (logits (B, T_l, K), distances (B, T_l, 2)); ``targets`` per sample, per level.
    """
    cls_loss = torch.zeros(())
    reg_loss = torch.zeros(())
    positives = 0
    for level, (logits, distances) in enumerate(outputs):
        cls_t = torch.stack([sample[level][0] for sample in targets])
        reg_t = torch.stack([sample[level][1] for sample in targets])
        pos = torch.stack([sample[level][2] for sample in targets])
        cls_loss = cls_loss + F.binary_cross_entropy_with_logits(logits, cls_t, reduction="sum")
        if pos.any():
            reg_loss = reg_loss + diou_1d(distances[pos], reg_t[pos]).sum()
        positives += int(pos.sum())
    norm = max(positives, 1)
    total = (cls_loss + reg_loss) / norm
    return total, {"bce": float(cls_loss.detach()) / norm, "diou": float(reg_loss.detach()) / norm}

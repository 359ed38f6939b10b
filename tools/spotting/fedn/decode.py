"""From SpottingNet outputs to intervals: score every location, turn distances into frames, 1-D NMS."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from tools.spotting.fedn.model import KINDS


@dataclass(frozen=True)
class NetInterval:
    """An interval predicted by the network: inclusive frames, kind and score (sigmoid of its class logit)."""

    onset: int
    offset: int
    kind: str
    score: float


def _iou(a: NetInterval, b: NetInterval) -> float:
    inter = min(a.offset, b.offset) - max(a.onset, b.onset) + 1
    if inter <= 0:
        return 0.0
    return inter / ((a.offset - a.onset + 1) + (b.offset - b.onset + 1) - inter)


def decode(
    outputs: Sequence[tuple[torch.Tensor, torch.Tensor]],
    length: int,
    threshold: float = 0.5,
    nms_iou: float = 0.3,
    kinds: Sequence[str] = KINDS,
) -> list[NetInterval]:
    """Intervals of sample 0 of a batch, by decreasing score, overlapping ones suppressed (IoU > ``nms_iou``)."""
    candidates: list[NetInterval] = []
    for level, (logits, distances) in enumerate(outputs):
        stride = 2**level
        scores = torch.sigmoid(logits[0])  # (T_l, K)
        best, kind = scores.max(dim=1)
        for index in torch.nonzero(best >= threshold).flatten().tolist():
            centre = (index + 0.5) * stride
            start = centre - float(distances[0, index, 0]) * stride
            end = centre + float(distances[0, index, 1]) * stride
            onset, offset = max(0, round(start)), min(length - 1, round(end) - 1)
            if offset >= onset:
                candidates.append(NetInterval(onset, offset, kinds[int(kind[index])], float(best[index])))
    kept: list[NetInterval] = []
    for candidate in sorted(candidates, key=lambda c: -c.score):
        if all(_iou(candidate, k) <= nms_iou for k in kept):
            kept.append(candidate)
    return sorted(kept, key=lambda c: c.onset)

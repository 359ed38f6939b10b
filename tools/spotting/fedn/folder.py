"""What ``mien spot train`` does: features per video, SpottingNet training on windows; and SpottingNet's
intervals over a whole video (``evals/spotting/folder.py`` scores them for ``mien spot evaluate``).

Long videos are cut into windows of ``WINDOW`` frames (half-overlapping) so attention stays small; predictions of
overlapping windows are merged by 1-D NMS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from tools.errors import ConfigError
from tools.spotting.fedn.data import FEATURES, LabelledVideo, read_folder, video_features
from tools.spotting.fedn.decode import NetInterval, decode
from tools.spotting.fedn.model import KINDS, NetConfig, SpottingNet
from tools.spotting.fedn.train import TrainingSequence, save_net, train

WINDOW = 256


def split_videos(videos: list[LabelledVideo], split: str) -> list[LabelledVideo]:
    chosen = [v for v in videos if v.split in (None, split)]
    if not chosen:
        raise ConfigError(f"no video of split {split!r} in labels.csv")
    return chosen


def _windows(features: np.ndarray, intervals: list[tuple[int, int, int]]) -> list[TrainingSequence]:
    out = []
    for start in range(0, max(1, len(features) - WINDOW // 2), WINDOW // 2):
        end = min(len(features), start + WINDOW)
        inside = tuple((a - start, b - start, k) for a, b, k in intervals if a >= start and b < end)
        out.append(TrainingSequence(features[start:end], inside))
    return out


def train_folder(folder: str | Path, out: str | Path, epochs: int = 30, seed: int = 0) -> dict[str, Any]:
    """Train SpottingNet on the folder's train split; write it to ``out``; report the loss before and after."""
    torch.set_num_threads(1)
    videos = split_videos(read_folder(folder), "train")
    cache = Path(folder) / "features"
    features = {v.name: video_features(v, cache)[0] for v in videos}
    stacked = np.concatenate(list(features.values()))
    mean, std = stacked.mean(axis=0), stacked.std(axis=0) + 1e-6
    sequences = []
    for video in videos:
        intervals = [(e.onset, e.offset, KINDS.index(e.kind)) for e in video.expressions]
        sequences.extend(_windows((features[video.name] - mean) / std, intervals))
    net = SpottingNet(NetConfig(features=FEATURES))
    report = train(net, sequences, steps=max(1, epochs * len(sequences)), seed=seed)
    save_net(net, out, mean, std)
    return {"model": str(out), "videos": len(videos), "windows": len(sequences), "steps": len(report.losses),
            "loss_first": round(report.first, 4), "loss_last": round(report.last, 4)}


def net_intervals(net: SpottingNet, features: np.ndarray, threshold: float = 0.5) -> list[NetInterval]:
    """SpottingNet's intervals over a whole video's (normalised) features, window by window, merged."""
    found: list[NetInterval] = []
    with torch.no_grad():
        for start in range(0, max(1, len(features) - WINDOW // 2), WINDOW // 2):
            chunk = torch.from_numpy(np.ascontiguousarray(features[start : start + WINDOW], np.float32))[None]
            for i in decode(net(chunk), chunk.shape[1], threshold):
                found.append(NetInterval(i.onset + start, i.offset + start, i.kind, i.score))
    kept: list[NetInterval] = []
    for candidate in sorted(found, key=lambda c: -c.score):
        overlap = [k for k in kept if min(k.offset, candidate.offset) >= max(k.onset, candidate.onset)]
        if not overlap:
            kept.append(candidate)
    return sorted(kept, key=lambda c: c.onset)

"""``mien spot evaluate``: MEGC scores (``evals.metrics.spotting``) on a CAS(ME)-style folder's test split, of a
trained SpottingNet or of the training-free spotter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from evals.metrics.spotting import LabelledInterval, score_spotting
from tools.spotting.fedn.data import read_folder, video_features
from tools.spotting.fedn.folder import net_intervals, split_videos
from tools.spotting.fedn.train import load_net
from tools.spotting.spot import spot_video


def evaluate_folder(folder: str | Path, model: str | Path | None = None) -> dict[str, Any]:
    """MEGC scores on the folder's test split, of SpottingNet (``model``) or of the training-free spotter."""
    torch.set_num_threads(1)
    videos = split_videos(read_folder(folder), "test")
    truths = {v.name: [LabelledInterval(e.onset, e.offset, e.label, e.kind) for e in v.expressions] for v in videos}
    preds: dict[str, list[LabelledInterval]] = {}
    if model is None:
        for video in videos:
            result = spot_video(video.path)
            preds[video.name] = [LabelledInterval(i.onset_frame, i.offset_frame, i.label, i.kind)
                                 for i in result.intervals]
        method = "training-free spotter"
    else:
        net, mean, std = load_net(model)
        cache = Path(folder) / "features"
        for video in videos:
            features = (video_features(video, cache)[0] - mean) / std
            # SpottingNet gives kinds, not emotions: recognition F1 is 0 unless labels are added another way.
            preds[video.name] = [LabelledInterval(i.onset, i.offset, None, i.kind)
                                 for i in net_intervals(net, features)]
        method = f"SpottingNet {model}"
    report: dict[str, Any] = {"method": method, "videos": len(videos)}
    for kind in (None, "micro", "macro"):
        report[kind or "overall"] = score_spotting(preds, truths, kind=kind).to_dict()
    return report

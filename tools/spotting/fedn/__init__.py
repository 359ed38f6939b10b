"""FEDN-style SpottingNet: per-frame features -> segment + sliding-window attention -> temporal pyramid -> interval
heads, trained with 1-D DIoU + BCE. For users who hold CAS(ME)^2/^3-style labelled videos (``data.py``)."""

from tools.spotting.fedn.model import NetConfig, SpottingNet

__all__ = ["NetConfig", "SpottingNet"]

"""Physiological signals synchronized to a video (MMME: EEG, PPG, RSP, SKT, EDA, ECG), read from CSV or EDF,
aligned to video time, summarised per spotted interval (heart-rate change, EDA rise, respiration change, EEG alpha)
and read as autonomic arousal (a heuristic) that weights spotting scores and feeds compound-emotion fusion."""

from tools.spotting.physio.arousal import ArousalEstimate, autonomic_arousal
from tools.spotting.physio.features import attach_physiology, clip_arousal, interval_features
from tools.spotting.physio.signals import Channel, Signals, read_signals

__all__ = [
    "ArousalEstimate",
    "Channel",
    "Signals",
    "attach_physiology",
    "autonomic_arousal",
    "clip_arousal",
    "interval_features",
    "read_signals",
]

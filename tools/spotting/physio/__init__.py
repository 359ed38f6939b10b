"""Physiological signals synchronized to a video (MMME: EEG, PPG, RSP, SKT, EDA, ECG), read from CSV or EDF,
aligned to video time, and summarised per spotted interval (heart-rate change, EDA rise, respiration change)."""

from tools.spotting.physio.features import attach_physiology, interval_features
from tools.spotting.physio.signals import Channel, Signals, read_signals

__all__ = ["Channel", "Signals", "attach_physiology", "interval_features", "read_signals"]

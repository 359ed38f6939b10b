"""Per-interval physiological features: how the body responded around a spotted expression.

Windows (video time): *before* is the ``before_s`` seconds up to the onset; *after* runs from the onset to
``after_s`` seconds past the offset, because autonomic responses lag the face (skin conductance by 1-3 s).

* ``hr_before_bpm``, ``hr_after_bpm``, ``hr_change_bpm``: heart rate from PPG (else ECG) beat-to-beat intervals
  (peaks at least 0.33 s apart, i.e. at most 180 bpm), median interval in each window.
* ``eda_rise``: the largest skin-conductance level in *after* minus the mean of the last second before onset.
* ``rsp_amplitude_ratio``: the respiration signal's standard deviation in *after* over *before* (deeper or
  held breath); ``skt_change``: mean skin temperature *after* minus *before*.

* ``eeg_alpha_ratio``: EEG alpha-band (8-13 Hz) power in *after* over *before* (Welch spectra); below 1 is
  alpha desynchronisation, which comes with arousal.

Features whose channel is missing, or whose window has too few samples, are left out (never zero-filled).
``attach_physiology`` also gives each interval the autonomic-arousal heuristic over them (``arousal``) and a
fused score: the face's score weighted by the body's response (``FUSION_WEIGHT``), so that of two equally strong
face movements the one the body answered ranks first.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.signal import find_peaks, welch

from tools.spotting.physio.arousal import autonomic_arousal
from tools.spotting.physio.signals import Channel, Signals
from tools.spotting.types import ExpressionInterval, SpottingResult

BEFORE_S = 5.0
AFTER_S = 4.0
MIN_BEAT_S = 0.33
ALPHA_BAND_HZ = (8.0, 13.0)
FUSION_WEIGHT = 0.5  # fused = score * (1 + w * (2 * arousal - 1)): between 0.5x (no response) and 1.5x


def heart_rate_bpm(channel: Channel, start_s: float, end_s: float) -> float | None:
    """Median heart rate in [start_s, end_s) from the channel's beats; None with fewer than 3 beats."""
    values = channel.between(start_s, end_s)
    if len(values) < channel.rate_hz * 1.0:
        return None
    centred = values - np.median(values)
    spread = float(np.percentile(centred, 95) - np.percentile(centred, 5))
    peaks, _ = find_peaks(centred, distance=max(1, int(MIN_BEAT_S * channel.rate_hz)), prominence=0.3 * spread)
    if len(peaks) < 3:
        return None
    return float(60.0 * channel.rate_hz / np.median(np.diff(peaks)))


def alpha_power(channel: Channel, start_s: float, end_s: float) -> float | None:
    """Mean EEG power in the alpha band over [start_s, end_s); None under 1 s of samples or below 30 Hz."""
    values = channel.between(start_s, end_s)
    if channel.rate_hz < 2 * ALPHA_BAND_HZ[1] + 4 or len(values) < channel.rate_hz:
        return None
    freqs, power = welch(values - np.mean(values), fs=channel.rate_hz, nperseg=min(len(values), int(channel.rate_hz)))
    band = (freqs >= ALPHA_BAND_HZ[0]) & (freqs <= ALPHA_BAND_HZ[1])
    return float(np.mean(power[band])) if band.any() else None


def interval_features(interval: ExpressionInterval, signals: Signals,
                      before_s: float = BEFORE_S, after_s: float = AFTER_S) -> dict[str, float]:
    """The features above for one interval (keys only for what could be computed)."""
    return window_features(signals, interval.onset_s, interval.offset_s + after_s, before_s)


def window_features(signals: Signals, onset: float, end: float, before_s: float = BEFORE_S) -> dict[str, float]:
    """The features of [onset, end) against the ``before_s`` seconds up to ``onset``."""
    out: dict[str, float] = {}
    heart = signals.first("PPG", "ECG")
    if heart is not None:
        before = heart_rate_bpm(heart, onset - before_s, onset)
        after = heart_rate_bpm(heart, onset, end)
        if before is not None and after is not None:
            out.update(hr_before_bpm=before, hr_after_bpm=after, hr_change_bpm=after - before)
    eda = signals.first("EDA")
    if eda is not None:
        level = eda.between(onset - 1.0, onset)
        response = eda.between(onset, end)
        if len(level) and len(response):
            out["eda_rise"] = float(np.max(response) - np.mean(level))
    rsp = signals.first("RSP")
    if rsp is not None:
        before_v, after_v = rsp.between(onset - before_s, onset), rsp.between(onset, end)
        if len(before_v) > 2 and len(after_v) > 2 and np.std(before_v) > 0:
            out["rsp_amplitude_ratio"] = float(np.std(after_v) / np.std(before_v))
    skt = signals.first("SKT")
    if skt is not None:
        before_v, after_v = skt.between(onset - before_s, onset), skt.between(onset, end)
        if len(before_v) and len(after_v):
            out["skt_change"] = float(np.mean(after_v) - np.mean(before_v))
    eeg = signals.first("EEG")
    if eeg is not None:
        before_p, after_p = alpha_power(eeg, onset - before_s, onset), alpha_power(eeg, onset, end)
        if before_p and after_p is not None:
            out["eeg_alpha_ratio"] = after_p / before_p
    return out


def with_physiology(interval: ExpressionInterval, signals: Signals) -> ExpressionInterval:
    """``interval`` with its features, its arousal and the fused score (unchanged score without any cue)."""
    features = interval_features(interval, signals)
    arousal = autonomic_arousal(features).score
    fused = interval.score if arousal is None else interval.score * (1.0 + FUSION_WEIGHT * (2.0 * arousal - 1.0))
    return dataclasses.replace(interval, physiology=features, arousal=arousal, fused_score=fused)


def clip_arousal(signals: Signals, duration_s: float, baseline_s: float = BEFORE_S) -> float | None:
    """The arousal heuristic over a whole clip: its opening seconds (``baseline_s``, at most a third of the clip)
    against the rest. None for clips under 3 s or when no cue could be computed."""
    if duration_s < 3.0:
        return None
    baseline = min(baseline_s, duration_s / 3.0)
    return autonomic_arousal(window_features(signals, baseline, duration_s, baseline)).score


def attach_physiology(result: SpottingResult, signals: Signals) -> SpottingResult:
    """``result`` with every interval's ``physiology`` filled; ``MediaError`` if the signals miss the video."""
    signals.check_overlap(0.0, result.duration_s)
    intervals = [with_physiology(i, signals) for i in result.intervals]
    kinds = sorted({c.kind for c in signals.channels})
    notes = [*result.notes, f"physiological signals from {signals.source}: {', '.join(kinds)}; arousal is a "
             "heuristic over them, and the fused score weights each interval's face score by it"]
    return dataclasses.replace(result, intervals=intervals, notes=notes)

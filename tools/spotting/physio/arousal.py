"""Autonomic arousal from an interval's physiological features: the body's side of an expression (a heuristic).

MMME's premise is that a genuine expression, a micro-expression above all, comes with an autonomic response: skin
conductance rises (a skin-conductance response), the heart speeds up, breathing changes, and EEG alpha power drops
(alpha desynchronisation with arousal). Each cue is mapped to [0, 1] by a saturating ramp whose knee is a textbook
magnitude, and the arousal is their mean over the cues that could be computed:

* EDA: rise of 0.05 uS or more is a skin-conductance response (the usual SCR amplitude threshold); 0.5 uS saturates.
* Heart rate: |change| of 2 bpm is within beat-to-beat noise; 10 bpm saturates.
* Respiration: amplitude ratio away from 1 (deeper or held breath), 1.5x (or 1/1.5x) saturates.
* EEG: alpha power after/before below 1 (desynchronisation); a ratio of 0.5 saturates.

Skin temperature moves over tens of seconds, too slowly for an expression, and is not a cue. These are
rules with fixed constants, not a model fitted to data: the arousal is labelled a heuristic wherever it is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

METHOD: Final[str] = "autonomic arousal heuristic (EDA, heart rate, respiration, EEG alpha ramps)"
SCR_THRESHOLD_US: Final[float] = 0.05


def _ramp(value: float, knee: float, full: float) -> float:
    """0 up to ``knee``, 1 from ``full``, linear between."""
    if value <= knee:
        return 0.0
    return min(1.0, (value - knee) / (full - knee))


@dataclass(frozen=True)
class ArousalEstimate:
    """``score`` in [0, 1] (None without any cue), and each cue's own share, by feature name."""

    score: float | None
    cues: dict[str, float]

    @property
    def responded(self) -> bool:
        """Whether the body visibly responded: arousal of at least one half."""
        return self.score is not None and self.score >= 0.5


def autonomic_arousal(features: dict[str, float]) -> ArousalEstimate:
    """The arousal of ``features`` (as ``interval_features`` gives them); cues without their feature are left out."""
    cues: dict[str, float] = {}
    if "eda_rise" in features:
        cues["eda_rise"] = _ramp(features["eda_rise"], SCR_THRESHOLD_US * 0.5, 0.5)
    if "hr_change_bpm" in features:
        cues["hr_change_bpm"] = _ramp(abs(features["hr_change_bpm"]), 2.0, 10.0)
    if "rsp_amplitude_ratio" in features and features["rsp_amplitude_ratio"] > 0:
        ratio = features["rsp_amplitude_ratio"]
        cues["rsp_amplitude_ratio"] = _ramp(max(ratio, 1.0 / ratio), 1.1, 1.5)
    if "eeg_alpha_ratio" in features and features["eeg_alpha_ratio"] > 0:
        cues["eeg_alpha_ratio"] = _ramp(1.0 / features["eeg_alpha_ratio"], 1.2, 2.0)
    score = sum(cues.values()) / len(cues) if cues else None
    return ArousalEstimate(None if score is None else round(score, 4), cues)

"""The audio modality, as a transparent HEURISTIC on prosody (no speech-emotion model ships in any package).

Input: the ``tools.speech.Prosody`` of one speech segment (pitch mean and spread over voiced frames, RMS energy,
words per second). Output: basic-emotion probabilities that encode only what prosody is known to say,
mostly about arousal. The rule:

1. Each feature becomes a cue in (-1, 1) relative to a speaker baseline (the speaker's own average over a
   conversation when known, else typical adult values): ``tanh(deviation / scale)`` with deviations
   pitch level in octaves (scale 0.5), pitch spread as the change of the coefficient of variation F0 std / F0
   mean (scale 0.1), loudness in dB (scale 6) and speaking rate in octaves of words per second (scale 0.5).
   A missing pitch (unvoiced segment) gives pitch cues of 0.
2. Each emotion has a prototype cue vector, the direction of the classic vocal-affect profiles (Banse &
   Scherer 1996; Juslin & Laukka 2003): anger loud, fast, high and variable; happiness high and very variable;
   fear high, fast and monotonous; sadness low, quiet, slow and flat; surprise high and very variable;
   disgust low, slow and slightly quiet; neutral at the baseline.
3. Probabilities are a softmax of ``-||cues - prototype||^2 / (2 sigma^2)`` (sigma 0.5), i.e. a Gaussian
   nearest-prototype rule. Anger, happiness and surprise share high arousal, so expect them to be confused: the
   audio heuristic separates arousal well and valence poorly, and its fusion weight should reflect that.

A segment too quiet to hold speech (below ``silence_db``) or with no speech rate and no pitch is a missing
modality, not "neutral". Syllables per second and the voiced fraction are not used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import numpy as np

from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.modality import InvalidProbabilitiesError, ModalityProbabilities, softmax_probabilities
from tools.speech.types import Prosody

SOURCE: Final[str] = "prosody-heuristic"
CUE_NAMES: Final[tuple[str, ...]] = ("pitch_level", "pitch_variability", "energy", "speaking_rate")

# Prototype cue vectors (pitch level, pitch variability, loudness, rate) per basic emotion.
EMOTION_PROTOTYPES: Final[Mapping[str, tuple[float, float, float, float]]] = MappingProxyType(
    {
        "Neutral": (0.0, 0.0, 0.0, 0.0),
        "Anger": (0.5, 0.5, 0.9, 0.5),
        "Disgust": (-0.4, -0.2, -0.3, -0.5),
        "Fear": (0.8, -0.4, 0.2, 0.7),
        "Happiness": (0.6, 0.8, 0.4, 0.3),
        "Sadness": (-0.6, -0.6, -0.6, -0.7),
        "Surprise": (0.9, 0.9, 0.3, 0.0),
    }
)


@dataclass(frozen=True)
class ProsodyBaseline:
    """The reference a segment is compared with. Defaults are typical values for adult conversational speech
    (an F0 midway between typical male ~120 Hz and female ~210 Hz voices); a per-speaker baseline is better."""

    pitch_mean_hz: float = 160.0
    pitch_cv: float = 0.15
    energy_db: float = -25.0
    words_per_s: float = 2.5

    @classmethod
    def from_segments(cls, segments: Sequence[Prosody]) -> ProsodyBaseline:
        """A speaker's own baseline: medians over their segments (defaults where a feature is never measured)."""
        default = cls()
        pitches = [s.pitch_mean_hz for s in segments if s.pitch_mean_hz]
        cvs = [s.pitch_std_hz / s.pitch_mean_hz for s in segments if s.pitch_mean_hz and s.pitch_std_hz is not None]
        rates = [s.words_per_s for s in segments if s.words_per_s]
        return cls(
            pitch_mean_hz=float(np.median(pitches)) if pitches else default.pitch_mean_hz,
            pitch_cv=float(np.median(cvs)) if cvs else default.pitch_cv,
            energy_db=float(np.median([s.energy_db for s in segments])) if segments else default.energy_db,
            words_per_s=float(np.median(rates)) if rates else default.words_per_s,
        )


@dataclass(frozen=True)
class ProsodyHeuristicConfig:
    """Cue scales (see the module docstring), prototype width ``sigma`` and the silence level."""

    pitch_octave_scale: float = 0.5
    pitch_cv_scale: float = 0.1
    energy_db_scale: float = 6.0
    rate_octave_scale: float = 0.5
    sigma: float = 0.5
    silence_db: float = -55.0


def prosody_cues(
    features: Prosody, baseline: ProsodyBaseline | None = None, config: ProsodyHeuristicConfig | None = None
) -> np.ndarray:
    """Cue vector (4,) in (-1, 1): pitch level, pitch variability, loudness, speaking rate vs the baseline."""
    baseline = baseline or ProsodyBaseline()
    config = config or ProsodyHeuristicConfig()
    cues = np.zeros(len(CUE_NAMES))
    if features.pitch_mean_hz is not None:
        if features.pitch_mean_hz <= 0:
            raise InvalidProbabilitiesError(f"pitch_mean_hz must be > 0 or None; got {features.pitch_mean_hz}")
        cues[0] = np.tanh(np.log2(features.pitch_mean_hz / baseline.pitch_mean_hz) / config.pitch_octave_scale)
        if features.pitch_std_hz is not None:
            cv = features.pitch_std_hz / features.pitch_mean_hz
            cues[1] = np.tanh((cv - baseline.pitch_cv) / config.pitch_cv_scale)
    cues[2] = np.tanh((features.energy_db - baseline.energy_db) / config.energy_db_scale)
    if features.words_per_s is not None:
        if features.words_per_s < 0:
            raise InvalidProbabilitiesError(f"words_per_s must be >= 0; got {features.words_per_s}")
        rate = max(features.words_per_s, 1e-3)
        cues[3] = np.tanh(np.log2(rate / baseline.words_per_s) / config.rate_octave_scale)
    return cues


def prosody_probabilities(
    features: Prosody, baseline: ProsodyBaseline | None = None, config: ProsodyHeuristicConfig | None = None
) -> ModalityProbabilities:
    """The ``audio`` modality for one segment; missing when the segment is silent or holds no measured speech."""
    config = config or ProsodyHeuristicConfig()
    if not np.isfinite(features.energy_db):
        raise InvalidProbabilitiesError(f"energy_db must be finite; got {features.energy_db}")
    silent = features.energy_db < config.silence_db
    unmeasured = features.pitch_mean_hz is None and not features.words_per_s
    if silent or unmeasured:
        return ModalityProbabilities.missing("audio", SOURCE)
    cues = prosody_cues(features, baseline, config)
    prototypes = np.array([EMOTION_PROTOTYPES[label] for label in BASIC_EMOTIONS])
    distances = ((prototypes - cues) ** 2).sum(axis=1)
    return ModalityProbabilities("audio", softmax_probabilities(-distances / (2 * config.sigma**2)), SOURCE)

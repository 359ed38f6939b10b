"""The physiology modality of CER: autonomic arousal as a (valence-blind) opinion about the basic emotions.

Signals synchronized to a video (``tools.spotting.physio``) say how aroused the body was, not whether the feeling
was pleasant: a skin-conductance response comes with fear and with delight alike. So the modality places each
basic emotion at its approximate arousal on Russell's circumplex (anger, fear and surprise high; happiness and
disgust above the middle; sadness and neutral low) and gives the emotions near the measured arousal more weight.
Fused with the face, it can move probability between, say, a calm and an alarmed reading of the same mouth; on
its own it cannot name an emotion. It is a heuristic with fixed positions, labelled so in the modality's source.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.modality import InvalidProbabilitiesError, ModalityProbabilities

# Approximate circumplex arousal of each basic emotion on [0, 1] (0 calm, 1 highly aroused).
AROUSAL_OF: Final[dict[str, float]] = {
    "Neutral": 0.25,
    "Anger": 0.85,
    "Disgust": 0.6,
    "Fear": 0.85,
    "Happiness": 0.65,
    "Sadness": 0.25,
    "Surprise": 0.9,
}
WIDTH: Final[float] = 0.25  # how sharply the measured arousal picks out nearby emotions
SOURCE: Final[str] = "autonomic arousal heuristic (circumplex positions; valence-blind)"


def arousal_probabilities(arousal: float | None, source: str = SOURCE) -> ModalityProbabilities:
    """The modality for an arousal in [0, 1]; missing when the signals gave no arousal cue."""
    if arousal is None:
        return ModalityProbabilities.missing("physiology")
    if not 0.0 <= arousal <= 1.0 or not np.isfinite(arousal):
        raise InvalidProbabilitiesError(f"arousal must be in [0, 1], got {arousal!r}")
    positions = np.array([AROUSAL_OF[label] for label in BASIC_EMOTIONS])
    weights = np.exp(-0.5 * ((positions - arousal) / WIDTH) ** 2)
    return ModalityProbabilities("physiology", weights / weights.sum(), source)

"""One modality's opinion about the 7 basic emotions, or the fact that the modality is missing.

Compound expression recognition (CER) fuses up to seven heterogeneous modalities. Each of them, whatever model is
behind it, is reduced to the same thing: a probability vector of shape (7,) over ``BASIC_EMOTIONS`` (Neutral,
Anger, Disgust, Fear, Happiness, Sadness, Surprise), or nothing when the modality has no evidence for a segment
(no face found, no speech, no VLM description). Fusion masks the missing ones instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, cast

import numpy as np

from tools.errors import MienError
from tools.expression.labels import BASIC_EMOTIONS

ModalityName = Literal["static_face", "dynamic_face", "clip", "scene_text", "audio", "transcript", "physiology"]

# The seven CER modalities, in the order fusion weights are stored.
MODALITY_NAMES: Final[tuple[ModalityName, ...]] = (
    "static_face",  # a per-frame expression model on the face crop
    "dynamic_face",  # the same over a window of frames (temporal smoothing / dynamics)
    "clip",  # CLIP image-label matching on the frame
    "scene_text",  # the served VLM's description of the scene, read by the text modality
    "audio",  # prosody of the speech (a heuristic without a speech-emotion model)
    "transcript",  # what was said, read by the text modality
    "physiology",  # autonomic arousal from signals synchronized to the video (a heuristic; valence-blind)
)

NUM_BASIC: Final[int] = len(BASIC_EMOTIONS)

# A vector whose sum is this close to 1 is accepted and renormalised exactly; anything further off is an error,
# because it is most likely logits or scores passed where probabilities were expected.
SUM_TOLERANCE: Final[float] = 1e-3


class InvalidProbabilitiesError(MienError):
    """A probability vector, modality name or label is unusable (wrong shape, negative, NaN, unknown name)."""

    exit_code = 2


class NoModalityError(MienError):
    """Fusion was asked to combine modalities but none of them is present."""

    exit_code = 4


def check_modality_name(name: str) -> ModalityName:
    """``name`` as a ``ModalityName``, or ``InvalidProbabilitiesError`` naming the known modalities."""
    if name not in MODALITY_NAMES:
        raise InvalidProbabilitiesError(f"unknown modality {name!r}; known: {', '.join(MODALITY_NAMES)}")
    return cast(ModalityName, name)


def as_basic_probabilities(values: Any, what: str = "probabilities") -> np.ndarray:
    """Validate ``values`` as a probability vector over ``BASIC_EMOTIONS``: shape (7,), finite, >= 0, sum ~ 1.

    Returns a read-only float64 copy, renormalised to sum to 1 unless it already does to within rounding.
    """
    array = np.array(values, dtype=np.float64)
    if array.shape != (NUM_BASIC,):
        raise InvalidProbabilitiesError(
            f"{what} must have shape ({NUM_BASIC},) over {', '.join(BASIC_EMOTIONS)}; got shape {array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise InvalidProbabilitiesError(f"{what} contain NaN or infinity: {array.tolist()}")
    if np.any(array < 0):
        raise InvalidProbabilitiesError(f"{what} contain negative values: {array.tolist()}")
    total = float(array.sum())
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise InvalidProbabilitiesError(
            f"{what} must sum to 1 (got {total:.6f}); pass scores through softmax_probabilities() first"
        )
    if abs(total - 1.0) > 1e-12:  # leave exact inputs bit-identical (the PPA mask compares against 1/7)
        array /= total
    array.setflags(write=False)
    return array


def by_label(labels: tuple[str, ...], values: Any, decimals: int = 6) -> dict[str, float]:
    """``{label: value}`` with values rounded for JSON output; ``labels`` and ``values`` have one length."""
    return {label: round(float(v), decimals) for label, v in zip(labels, values, strict=True)}


def softmax_probabilities(scores: Any, temperature: float = 1.0) -> np.ndarray:
    """Softmax of ``scores`` (shape (..., k)) divided by ``temperature`` along the last axis; float64."""
    if temperature <= 0:
        raise InvalidProbabilitiesError(f"softmax temperature must be > 0; got {temperature}")
    logits = np.asarray(scores, dtype=np.float64) / temperature
    logits = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(logits)
    return np.asarray(exp / exp.sum(axis=-1, keepdims=True))


@dataclass(frozen=True, eq=False)
class ModalityProbabilities:
    """A modality's basic-emotion probabilities for one segment, or ``probabilities=None`` when it is missing.

    ``probabilities`` has shape (7,) in ``BASIC_EMOTIONS`` order and sums to 1. ``source`` says which backend
    produced it (e.g. ``"fer-mini-xception"``, ``"open_clip:ViT-B-32"``, ``"prosody-heuristic"``).
    """

    modality: ModalityName
    probabilities: np.ndarray | None
    source: str = ""

    def __post_init__(self) -> None:
        check_modality_name(self.modality)
        if self.probabilities is not None:
            checked = as_basic_probabilities(self.probabilities, what=f"{self.modality} probabilities")
            object.__setattr__(self, "probabilities", checked)

    @classmethod
    def missing(cls, modality: str, source: str = "") -> ModalityProbabilities:
        """The modality had no evidence for this segment."""
        return cls(check_modality_name(modality), None, source)

    @classmethod
    def from_mapping(cls, modality: str, by_label: Mapping[str, float], source: str = "") -> ModalityProbabilities:
        """Build from ``{"Happiness": 0.8, ...}``; every basic emotion must be given."""
        unknown = set(by_label) - set(BASIC_EMOTIONS)
        absent = [label for label in BASIC_EMOTIONS if label not in by_label]
        if unknown or absent:
            raise InvalidProbabilitiesError(
                f"{modality} probabilities need exactly the labels {', '.join(BASIC_EMOTIONS)}; "
                f"unknown: {sorted(unknown)}, absent: {absent}"
            )
        return cls(check_modality_name(modality), np.array([by_label[label] for label in BASIC_EMOTIONS]), source)

    @property
    def present(self) -> bool:
        return self.probabilities is not None

    @property
    def top_label(self) -> str | None:
        """The most probable basic emotion, or None when missing."""
        if self.probabilities is None:
            return None
        return BASIC_EMOTIONS[int(np.argmax(self.probabilities))]

    def to_dict(self) -> dict[str, Any]:
        probabilities = None
        if self.probabilities is not None:
            probabilities = by_label(BASIC_EMOTIONS, self.probabilities)
        return {
            "modality": self.modality,
            "present": self.present,
            "source": self.source,
            "probabilities": probabilities,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModalityProbabilities:
        """Inverse of ``to_dict`` (probabilities are rounded to 6 decimals there, then renormalised here)."""
        probabilities = data.get("probabilities")
        if probabilities is None:
            return cls.missing(str(data["modality"]), str(data.get("source", "")))
        return cls.from_mapping(str(data["modality"]), probabilities, str(data.get("source", "")))

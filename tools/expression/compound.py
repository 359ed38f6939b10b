"""Compound expressions from basic ones: the 7 C-EXPR-DB classes, each a pair of basic emotions.

Two zero-shot transformations, both configurable:

* **PPA** (pair-wise probability aggregation) scores a compound ``(i, j)`` from the fused basic probabilities as
  ``P(i, j) = w_i p_i + w_j p_j``. Options, as in the authors' predecessor code: the published *difficulty
  weights* ``w_i = d_i / (d_i + d_j)`` with ``d = {Anger 5, Disgust 6, Fear 5, Happiness 6, Sadness 4,
  Surprise 2}`` (otherwise ``w_i = w_j = 1``, a plain sum), and the *mask* that zeroes every basic probability
  not above 1/7 (chance level for 7 classes) before pairing.
* **PFSA** (pair-wise feature similarity aggregation) scores ``(i, j)`` from a segment embedding ``e`` (a CLIP
  image embedding, a sentence embedding of the transcript, ...) and text embeddings ``t_i`` of the basic labels
  in the same space: ``S(i, j) = agg(cos(e, t_i), cos(e, t_j))``.

Choices the papers leave open, and what we do (each is a config field):

* Mask boundary: the predecessor code keeps ``p > 1/7`` and zeroes the rest, so a value of exactly 1/7 is
  masked. We follow the code (``mask_threshold``; the comparison is strict).
* Neutral takes part in no compound; its probability is ignored (masked or not).
* Turning the 7 scores into probabilities: the papers only take the argmax. We divide by the sum (``"sum"``,
  default for PPA, keeps PPA's linear, interpretable ratios) or apply a softmax with a temperature
  (``"softmax"``, default for PFSA because cosines can be negative). When every score is zero (``"sum"``; e.g.
  the mask removed every emotion of a confidently neutral face) there is no compound evidence: the result is
  uniform (1/7 each) and flagged ``degenerate``.
* PFSA pair aggregation: the mean of the two cosines (``"mean"``, default) or the same difficulty weights as PPA
  (``"difficulty"``). The default softmax temperature is 0.01, CLIP's own logit scale (100); sentence-embedding
  cosines spread more widely and may want a larger value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

import numpy as np

from tools.errors import MienError
from tools.expression.labels import BASIC_EMOTIONS, COMPOUND_EXPRESSIONS
from tools.expression.modality import (
    InvalidProbabilitiesError,
    as_basic_probabilities,
    by_label,
    softmax_probabilities,
)

COMPOUND_LABELS: Final[tuple[str, ...]] = tuple(COMPOUND_EXPRESSIONS)
NUM_COMPOUND: Final[int] = len(COMPOUND_LABELS)

# Published per-emotion difficulty values used for the PPA pair weights (Neutral takes part in no compound).
PUBLISHED_DIFFICULTY: Final[dict[str, float]] = {
    "Anger": 5.0,
    "Disgust": 6.0,
    "Fear": 5.0,
    "Happiness": 6.0,
    "Sadness": 4.0,
    "Surprise": 2.0,
}
CHANCE_LEVEL: Final[float] = 1.0 / len(BASIC_EMOTIONS)

Normalisation = Literal["sum", "softmax"]
CompoundMethod = Literal["ppa", "pfsa"]


class InvalidEmbeddingError(MienError):
    """An embedding for PFSA has the wrong shape, is zero, or its label set is incomplete."""

    exit_code = 2


def _published_difficulty() -> dict[str, float]:
    return dict(PUBLISHED_DIFFICULTY)


@dataclass(frozen=True)
class PPAConfig:
    """Options of pair-wise probability aggregation (defaults: plain sum, no mask, sum-normalised)."""

    difficulty_weights: bool = False
    mask: bool = False
    mask_threshold: float = CHANCE_LEVEL
    difficulty: dict[str, float] = field(default_factory=_published_difficulty)
    normalisation: Normalisation = "sum"
    temperature: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PFSAConfig:
    """Options of pair-wise feature similarity aggregation (defaults: mean of cosines, softmax at T = 0.01)."""

    pair_aggregation: Literal["mean", "difficulty"] = "mean"
    difficulty: dict[str, float] = field(default_factory=_published_difficulty)
    normalisation: Normalisation = "softmax"
    temperature: float = 0.01

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, eq=False)
class CompoundProbabilities:
    """Scores and probabilities (7,) over ``COMPOUND_LABELS`` from one transformation.

    ``scores`` are the raw pair scores (PPA: weighted probability sums; PFSA: aggregated cosines);
    ``probabilities`` sum to 1. ``degenerate`` is True when no compound had any evidence and the probabilities
    fell back to uniform.
    """

    method: CompoundMethod
    scores: np.ndarray
    probabilities: np.ndarray
    degenerate: bool
    settings: dict[str, Any]

    @property
    def labels(self) -> tuple[str, ...]:
        return COMPOUND_LABELS

    @property
    def top_label(self) -> str:
        return COMPOUND_LABELS[int(np.argmax(self.probabilities))]

    def as_mapping(self) -> dict[str, float]:
        return {label: float(p) for label, p in zip(COMPOUND_LABELS, self.probabilities, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "top": self.top_label,
            "degenerate": self.degenerate,
            "probabilities": by_label(COMPOUND_LABELS, self.probabilities),
            "scores": by_label(COMPOUND_LABELS, self.scores),
            "settings": self.settings,
        }


def _pair_indices() -> np.ndarray:
    """(7, 2) indices into ``BASIC_EMOTIONS`` of each compound's two emotions."""
    return np.array([[BASIC_EMOTIONS.index(a), BASIC_EMOTIONS.index(b)] for a, b in COMPOUND_EXPRESSIONS.values()])


def pair_weights(difficulty: Mapping[str, float] | None) -> np.ndarray:
    """(7, 2) weights of each compound's two emotions: ``d_i / (d_i + d_j)``, or all ones when ``difficulty`` is
    None."""
    if difficulty is None:
        return np.ones((NUM_COMPOUND, 2))
    weights = np.zeros((NUM_COMPOUND, 2))
    for row, (first, second) in enumerate(COMPOUND_EXPRESSIONS.values()):
        try:
            d_first, d_second = float(difficulty[first]), float(difficulty[second])
        except KeyError as exc:
            raise InvalidProbabilitiesError(f"difficulty weights lack the emotion {exc}") from exc
        if d_first <= 0 or d_second <= 0:
            raise InvalidProbabilitiesError(
                f"difficulty weights must be > 0; got {first}={d_first}, {second}={d_second}"
            )
        weights[row] = (d_first / (d_first + d_second), d_second / (d_first + d_second))
    return weights


def _normalise(scores: np.ndarray, normalisation: Normalisation, temperature: float) -> tuple[np.ndarray, bool]:
    """Probabilities from pair scores, and whether the result is the no-evidence uniform fallback."""
    if normalisation == "softmax":
        return softmax_probabilities(scores, temperature), False
    if normalisation != "sum":
        raise InvalidProbabilitiesError(f"unknown normalisation {normalisation!r}; use 'sum' or 'softmax'")
    positive = np.clip(scores, 0.0, None)
    total = float(positive.sum())
    if total <= 0.0:
        return np.full(NUM_COMPOUND, 1.0 / NUM_COMPOUND), True
    return positive / total, False


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=np.float64)
    array.setflags(write=False)
    return array


def ppa(basic_probabilities: Any, config: PPAConfig | None = None) -> CompoundProbabilities:
    """Pair-wise probability aggregation of basic probabilities (7,) in ``BASIC_EMOTIONS`` order."""
    config = config or PPAConfig()
    probabilities = np.array(as_basic_probabilities(basic_probabilities, what="basic probabilities"))
    if config.mask:
        # Strict '>' as in the predecessor code: a probability of exactly the threshold is masked.
        probabilities = np.where(probabilities > config.mask_threshold, probabilities, 0.0)
    weights = pair_weights(config.difficulty if config.difficulty_weights else None)
    pairs = probabilities[_pair_indices()]  # (7, 2)
    scores = (weights * pairs).sum(axis=1)
    normalised, degenerate = _normalise(scores, config.normalisation, config.temperature)
    return CompoundProbabilities("ppa", _frozen(scores), _frozen(normalised), degenerate, config.to_dict())


def _unit_rows(matrix: np.ndarray, what: str) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    if not np.all(np.isfinite(matrix)) or np.any(norms == 0):
        raise InvalidEmbeddingError(f"{what} must be finite and non-zero")
    return np.asarray(matrix / norms)


def label_embedding_matrix(label_embeddings: Any) -> np.ndarray:
    """Label embeddings as a (7, D) matrix in ``BASIC_EMOTIONS`` order.

    Accepts a (7, D) array in that order, or a mapping ``label -> (D,)`` that names at least the six emotions
    used in compounds (Neutral may be absent; its row is then NaN and never read).
    """
    if isinstance(label_embeddings, Mapping):
        needed = sorted({label for pair in COMPOUND_EXPRESSIONS.values() for label in pair})
        absent = [label for label in needed if label not in label_embeddings]
        if absent:
            raise InvalidEmbeddingError(f"label embeddings lack {absent}")
        dims = {np.asarray(v).shape for v in label_embeddings.values()}
        if len(dims) != 1 or len(next(iter(dims))) != 1:
            raise InvalidEmbeddingError(f"label embeddings must all be vectors of one length; got shapes {dims}")
        (dim,) = next(iter(dims))
        matrix = np.full((len(BASIC_EMOTIONS), dim), np.nan)
        for label, vector in label_embeddings.items():
            if label not in BASIC_EMOTIONS:
                raise InvalidEmbeddingError(f"unknown label {label!r} in label embeddings")
            matrix[BASIC_EMOTIONS.index(label)] = np.asarray(vector, dtype=np.float64)
        return matrix
    matrix = np.asarray(label_embeddings, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != len(BASIC_EMOTIONS):
        raise InvalidEmbeddingError(
            f"label embeddings must have shape ({len(BASIC_EMOTIONS)}, D) in BASIC_EMOTIONS order; got {matrix.shape}"
        )
    return matrix


def label_cosines(segment_embedding: Any, label_embeddings: Any) -> np.ndarray:
    """Cosine similarity (7,) between a segment embedding (D,) and each basic label's embedding (NaN where a
    label has no embedding)."""
    segment = np.asarray(segment_embedding, dtype=np.float64)
    labels = label_embedding_matrix(label_embeddings)
    if segment.ndim != 1 or segment.shape[0] != labels.shape[1]:
        raise InvalidEmbeddingError(
            f"segment embedding must be a vector of length {labels.shape[1]} (the label embeddings' size); "
            f"got shape {segment.shape}"
        )
    segment = _unit_rows(segment, "segment embedding")
    cosines = np.full(len(BASIC_EMOTIONS), np.nan)
    known = ~np.isnan(labels).any(axis=1)
    cosines[known] = _unit_rows(labels[known], "label embeddings") @ segment
    return cosines


def pfsa(segment_embedding: Any, label_embeddings: Any, config: PFSAConfig | None = None) -> CompoundProbabilities:
    """Pair-wise feature similarity aggregation.

    ``segment_embedding``: (D,); ``label_embeddings``: (7, D) in ``BASIC_EMOTIONS`` order or a label mapping
    (see ``label_embedding_matrix``), in the same embedding space. Vectors need not be normalised.
    """
    config = config or PFSAConfig()
    cosines = label_cosines(segment_embedding, label_embeddings)
    if config.pair_aggregation == "mean":
        weights = np.full((NUM_COMPOUND, 2), 0.5)
    elif config.pair_aggregation == "difficulty":
        weights = pair_weights(config.difficulty)
    else:
        raise InvalidProbabilitiesError(
            f"unknown pair aggregation {config.pair_aggregation!r}; use 'mean' or 'difficulty'"
        )
    scores = (weights * cosines[_pair_indices()]).sum(axis=1)
    normalised, degenerate = _normalise(scores, config.normalisation, config.temperature)
    known = {label: round(float(c), 6) for label, c in zip(BASIC_EMOTIONS, cosines, strict=True) if np.isfinite(c)}
    settings = config.to_dict() | {"cosines": known}
    return CompoundProbabilities("pfsa", _frozen(scores), _frozen(normalised), degenerate, settings)

"""Multi-Head Probability Fusion (MHPF): combine the modalities' basic-emotion probabilities into one vector.

Every basic emotion is a *head* with its own distribution of trust over the modalities (a face model may be
reliable for Happiness and useless for Fear, audio the other way round). The weight of modality ``m`` for class
``c`` is ``modality_weights[m] * class_weights[m, c]``. For one segment:

1. missing modalities are masked (weight 0);
2. each class head's weights are renormalised over the modalities that are present, so they sum to 1;
3. the fused score of class ``c`` is the weighted mean ``s_c = sum_m W'[m, c] * p_m[c]``;
4. the scores are divided by their sum so the result is a probability vector again (with per-class weights the
   per-class weighted means do not sum to 1 on their own; with equal class weights they already do).

``fit`` learns both weight sets from labelled segments by full-batch gradient descent (Adam, in numpy with the
exact gradient) on the cross-entropy of the fused probabilities. The weights are parametrised as
``exp(a_m + b_mc)`` normalised by a softmax over the present modalities, so masking and renormalisation during
training are exactly what happens at inference. The per-class offsets ``b`` carry an L2 penalty so that, with
little data, the heads stay close to the shared per-modality weights ``a``. Parameters start at zero (uniform
weights) and there is no sampling, so a fit is deterministic: the same data give the same weights on every run
(no seed is needed).

Fusion is additive, so per-class weights cannot veto a modality that is confidently wrong about a class: they
can only shift trust between modalities within each class head.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from tools.errors import ConfigError
from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.modality import (
    MODALITY_NAMES,
    NUM_BASIC,
    InvalidProbabilitiesError,
    ModalityName,
    ModalityProbabilities,
    NoModalityError,
    by_label,
    check_modality_name,
)
from tools.storage import atomic_write_bytes

WEIGHTS_FORMAT: Final[str] = "mien-cer-fusion-weights"
WEIGHTS_VERSION: Final[int] = 1
NUM_MODALITIES: Final[int] = len(MODALITY_NAMES)
# Modalities newer than some weights files: a file fitted before one existed gives it weight 0 (never consulted).
ADDED_LATER: Final[frozenset[str]] = frozenset({"physiology"})
_LOG_EPS: Final[float] = 1e-12

# One segment's modalities: ModalityProbabilities objects, or a mapping of modality name -> (7,) vector or None.
ModalityInput = Iterable[ModalityProbabilities] | Mapping[str, Any]


@dataclass(frozen=True)
class FitReport:
    """What ``fit`` saw and achieved (accuracies are on the training examples)."""

    examples: int
    steps: int
    learning_rate: float
    class_l2: float
    initial_loss: float
    final_loss: float
    accuracy_before: float
    accuracy_after: float
    modality_counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "examples": self.examples,
            "steps": self.steps,
            "learning_rate": self.learning_rate,
            "class_l2": self.class_l2,
            "initial_loss": self.initial_loss,
            "final_loss": self.final_loss,
            "accuracy_before": self.accuracy_before,
            "accuracy_after": self.accuracy_after,
            "modality_counts": dict(self.modality_counts),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FitReport:
        return cls(
            examples=int(data["examples"]),
            steps=int(data["steps"]),
            learning_rate=float(data["learning_rate"]),
            class_l2=float(data["class_l2"]),
            initial_loss=float(data["initial_loss"]),
            final_loss=float(data["final_loss"]),
            accuracy_before=float(data["accuracy_before"]),
            accuracy_after=float(data["accuracy_after"]),
            modality_counts={str(k): int(v) for k, v in data.get("modality_counts", {}).items()},
        )


def _check_weight_array(values: Any, shape: tuple[int, ...], what: str) -> np.ndarray:
    array = np.array(values, dtype=np.float64)
    if array.shape != shape:
        raise InvalidProbabilitiesError(f"{what} must have shape {shape}; got {array.shape}")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise InvalidProbabilitiesError(f"{what} must be finite and >= 0; got {array.tolist()}")
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class FusionWeights:
    """Per-modality weights (7,) and per-class weights (7, 7), rows in ``MODALITY_NAMES`` order.

    Only ratios matter: every class head is renormalised over the present modalities. A weight of 0 switches a
    modality off (for one class or for all). ``fit`` stores softmax-normalised values (each sums to 1).
    """

    modality_weights: np.ndarray
    class_weights: np.ndarray
    fit_report: FitReport | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "modality_weights", _check_weight_array(self.modality_weights, (NUM_MODALITIES,), "modality_weights")
        )
        object.__setattr__(
            self,
            "class_weights",
            _check_weight_array(self.class_weights, (NUM_MODALITIES, NUM_BASIC), "class_weights"),
        )

    @classmethod
    def uniform(cls) -> FusionWeights:
        """Every modality and every class head equally trusted: fusion is the mean of the present modalities."""
        return cls(
            np.full(NUM_MODALITIES, 1.0 / NUM_MODALITIES),
            np.full((NUM_MODALITIES, NUM_BASIC), 1.0 / NUM_MODALITIES),
        )

    @classmethod
    def from_modality_weights(cls, weights: Mapping[str, float]) -> FusionWeights:
        """Per-modality weights only (modalities not named get 0); all class heads equal."""
        vector = np.zeros(NUM_MODALITIES)
        for name, weight in weights.items():
            vector[MODALITY_NAMES.index(check_modality_name(name))] = weight
        return cls(vector, np.ones((NUM_MODALITIES, NUM_BASIC)))

    @property
    def combined(self) -> np.ndarray:
        """``modality_weights[m] * class_weights[m, c]``, shape (7, 7), before masking."""
        return np.asarray(self.modality_weights[:, None] * self.class_weights)

    def effective(self, present: np.ndarray) -> np.ndarray:
        """Weights (7, 7) for a presence mask (7,) bool: absent rows 0, each column renormalised to sum to 1.

        A column whose present modalities all have weight 0 stays all-zero (that class gets no score).
        """
        weights = self.combined * np.asarray(present, dtype=bool)[:, None]
        totals = weights.sum(axis=0, keepdims=True)
        return np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": WEIGHTS_FORMAT,
            "version": WEIGHTS_VERSION,
            "basic_emotions": list(BASIC_EMOTIONS),
            "modalities": list(MODALITY_NAMES),
            "modality_weights": {m: float(w) for m, w in zip(MODALITY_NAMES, self.modality_weights, strict=True)},
            "class_weights": {
                m: {label: float(w) for label, w in zip(BASIC_EMOTIONS, row, strict=True)}
                for m, row in zip(MODALITY_NAMES, self.class_weights, strict=True)
            },
            "fit": None if self.fit_report is None else self.fit_report.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FusionWeights:
        """Inverse of ``to_dict``; weights are looked up by name, so the stored order does not matter."""
        if data.get("format") != WEIGHTS_FORMAT:
            raise ConfigError(f"not a fusion weights file (format {data.get('format')!r}, expected {WEIGHTS_FORMAT!r})")
        if data.get("version") != WEIGHTS_VERSION:
            raise ConfigError(f"fusion weights version {data.get('version')!r} is not supported ({WEIGHTS_VERSION})")
        try:
            stored = [m for m in MODALITY_NAMES if m not in ADDED_LATER or m in data["modality_weights"]]
            modality = [float(data["modality_weights"][m]) if m in stored else 0.0 for m in MODALITY_NAMES]
            per_class = [
                [float(data["class_weights"][m][label]) if m in stored else 1.0 for label in BASIC_EMOTIONS]
                for m in MODALITY_NAMES
            ]
            report = None if data.get("fit") is None else FitReport.from_dict(data["fit"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"fusion weights are incomplete or malformed: missing or bad entry {exc}") from exc
        try:
            return cls(np.array(modality), np.array(per_class), report)
        except InvalidProbabilitiesError as exc:
            raise ConfigError(f"fusion weights are invalid: {exc}") from exc

    def save(self, path: str | Path) -> Path:
        """Write the weights as JSON, atomically (a reader never sees half a file)."""
        text = json.dumps(self.to_dict(), indent=2) + "\n"
        return atomic_write_bytes(path, text.encode("utf-8"))

    @classmethod
    def load(cls, path: str | Path) -> FusionWeights:
        """Read weights written by ``save``; a missing or unreadable file is a ``ConfigError``."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"fusion weights file not found: {path}") from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ConfigError(f"fusion weights file {path} is not readable JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"fusion weights file {path} does not hold a JSON object")
        return cls.from_dict(data)


@dataclass(frozen=True, eq=False)
class FusedProbabilities:
    """The fused basic-emotion probabilities (7,) of one segment and how they were obtained.

    ``weights`` has shape (len(present), 7): the renormalised weight of each present modality in each class head.
    """

    probabilities: np.ndarray
    present: tuple[ModalityName, ...]
    missing: tuple[ModalityName, ...]
    weights: np.ndarray

    @property
    def top_label(self) -> str:
        return BASIC_EMOTIONS[int(np.argmax(self.probabilities))]

    def to_dict(self) -> dict[str, Any]:
        return {
            "probabilities": by_label(BASIC_EMOTIONS, self.probabilities),
            "top": self.top_label,
            "present": list(self.present),
            "missing": list(self.missing),
            "weights": {m: by_label(BASIC_EMOTIONS, row) for m, row in zip(self.present, self.weights, strict=True)},
        }


def stack_modalities(modalities: ModalityInput) -> tuple[np.ndarray, np.ndarray]:
    """One segment's modalities as (probabilities (7, 7) with zeros where missing, present mask (7,) bool).

    Accepts ``ModalityProbabilities`` objects or a mapping ``{"static_face": vector or None, ...}``; modalities
    not mentioned are missing. Naming a modality twice is an error.
    """
    items: list[ModalityProbabilities]
    if isinstance(modalities, Mapping):
        items = [
            ModalityProbabilities(check_modality_name(name), None if vector is None else np.asarray(vector))
            for name, vector in modalities.items()
        ]
    else:
        items = list(modalities)
    probabilities = np.zeros((NUM_MODALITIES, NUM_BASIC))
    present = np.zeros(NUM_MODALITIES, dtype=bool)
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, ModalityProbabilities):
            raise InvalidProbabilitiesError(f"expected ModalityProbabilities, got {type(item).__name__}")
        if item.modality in seen:
            raise InvalidProbabilitiesError(f"modality {item.modality!r} given twice for one segment")
        seen.add(item.modality)
        if item.probabilities is not None:
            row = MODALITY_NAMES.index(item.modality)
            probabilities[row] = item.probabilities
            present[row] = True
    return probabilities, present


def fuse_arrays(weights: FusionWeights, probabilities: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Vectorised fusion: probabilities (n, 6, 7), present (n, 6) bool -> fused probabilities (n, 7).

    Raises ``NoModalityError`` for a segment where no weighted modality is present.
    """
    mask = np.asarray(present, dtype=bool)
    masked = weights.combined[None, :, :] * mask[:, :, None]
    totals = masked.sum(axis=1, keepdims=True)
    normalised = np.divide(masked, totals, out=np.zeros_like(masked), where=totals > 0)
    scores = (normalised * probabilities).sum(axis=1)
    sums = scores.sum(axis=1, keepdims=True)
    if np.any(sums <= 0):
        bad = int(np.flatnonzero(sums[:, 0] <= 0)[0])
        raise NoModalityError(
            f"segment {bad}: no modality with a non-zero weight is present "
            f"(present: {[m for m, p in zip(MODALITY_NAMES, mask[bad], strict=True) if p] or 'none'})"
        )
    return np.asarray(scores / sums)


def _label_index(label: int | str) -> int:
    if isinstance(label, str):
        if label not in BASIC_EMOTIONS:
            raise InvalidProbabilitiesError(f"unknown label {label!r}; known: {', '.join(BASIC_EMOTIONS)}")
        return BASIC_EMOTIONS.index(label)
    index = int(label)
    if not 0 <= index < NUM_BASIC:
        raise InvalidProbabilitiesError(f"label index {label} is outside 0..{NUM_BASIC - 1}")
    return index


class _Adam:
    """Adam (Kingma & Ba) on one numpy parameter array, default betas; enough for a few dozen parameters."""

    def __init__(self, shape: tuple[int, ...], learning_rate: float) -> None:
        self.learning_rate = learning_rate
        self.first = np.zeros(shape)
        self.second = np.zeros(shape)
        self.t = 0

    def step(self, value: np.ndarray, gradient: np.ndarray) -> np.ndarray:
        self.t += 1
        self.first = 0.9 * self.first + 0.1 * gradient
        self.second = 0.999 * self.second + 0.001 * gradient**2
        first = self.first / (1 - 0.9**self.t)
        second = self.second / (1 - 0.999**self.t)
        return np.asarray(value - self.learning_rate * first / (np.sqrt(second) + 1e-8))


def fusion_loss(
    modality_logits: np.ndarray,
    class_logits: np.ndarray,
    probabilities: np.ndarray,
    present: np.ndarray,
    targets: np.ndarray,
    class_l2: float,
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Training objective of ``fit`` and its exact gradient.

    Weights are ``softmax over present m of (modality_logits[m] + class_logits[m, c])``; probabilities (n, 7, 7),
    present (n, 7) bool, targets (n,) class indices. Returns (loss with the L2 term, mean cross-entropy,
    d loss / d modality_logits (7,), d loss / d class_logits (7, 7)).
    """
    n = len(targets)
    logits = np.where(present[:, :, None], (modality_logits[:, None] + class_logits)[None], -np.inf)
    logits = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    weights = exp / exp.sum(axis=1, keepdims=True)  # (n, 6, 7), 0 where absent
    scores = (weights * probabilities).sum(axis=1)  # (n, 7)
    totals = scores.sum(axis=1, keepdims=True)
    rows = np.arange(n)
    fused_true = scores[rows, targets] / totals[:, 0]
    nll = float(-np.log(fused_true + _LOG_EPS).mean())
    # d(-log(f_y + eps)) / d s_c = -(1[c = y] - f_y) / (S (f_y + eps)), averaged over the n examples.
    onehot = np.zeros_like(scores)
    onehot[rows, targets] = 1.0
    grad_scores = -(onehot - fused_true[:, None]) / (totals * (fused_true[:, None] + _LOG_EPS)) / n
    # d s_c / d logit_mc = w_mc (p_mc - s_c) (softmax over modalities, per class).
    grad_logits = grad_scores[:, None, :] * weights * (probabilities - scores[:, None, :])
    grad_class = grad_logits.sum(axis=0) + 2.0 * class_l2 * class_logits
    grad_modality = grad_logits.sum(axis=(0, 2))
    return nll + class_l2 * float((class_logits**2).sum()), nll, grad_modality, grad_class


class MultiHeadProbabilityFusion:
    """Fuse modality probabilities with per-modality and per-class weights; learn the weights with ``fit``."""

    def __init__(self, weights: FusionWeights | None = None) -> None:
        self.weights = weights if weights is not None else FusionWeights.uniform()

    def fuse(self, modalities: ModalityInput) -> FusedProbabilities:
        """Fuse one segment's modalities (see ``stack_modalities`` for the accepted forms)."""
        probabilities, present = stack_modalities(modalities)
        if not present.any():
            raise NoModalityError("cannot fuse: every modality is missing for this segment")
        fused = fuse_arrays(self.weights, probabilities[None], present[None])[0]
        fused.setflags(write=False)
        effective = self.weights.effective(present)[present]
        return FusedProbabilities(
            probabilities=fused,
            present=tuple(m for m, p in zip(MODALITY_NAMES, present, strict=True) if p),
            missing=tuple(m for m, p in zip(MODALITY_NAMES, present, strict=True) if not p),
            weights=effective,
        )

    def fit(
        self,
        examples: Sequence[ModalityInput],
        labels: Sequence[int | str],
        *,
        steps: int = 500,
        learning_rate: float = 0.05,
        class_l2: float = 1e-2,
    ) -> MultiHeadProbabilityFusion:
        """Learn weights from labelled segments; returns ``self`` with ``weights`` replaced.

        ``examples``: one entry per segment, each in a form ``stack_modalities`` accepts (modalities may be
        missing per segment). ``labels``: the true basic emotion per segment, as an index into
        ``BASIC_EMOTIONS`` or its name. Modalities never present in the examples keep weight logit 0.
        """
        if len(examples) != len(labels):
            raise InvalidProbabilitiesError(f"{len(examples)} examples but {len(labels)} labels")
        if not examples:
            raise InvalidProbabilitiesError("fit needs at least one labelled example")
        if steps < 1 or learning_rate <= 0 or class_l2 < 0:
            raise InvalidProbabilitiesError("fit needs steps >= 1, learning_rate > 0 and class_l2 >= 0")
        stacked = [stack_modalities(example) for example in examples]
        probabilities = np.stack([p for p, _ in stacked])
        present = np.stack([m for _, m in stacked])
        empty = np.flatnonzero(~present.any(axis=1))
        if empty.size:
            raise NoModalityError(f"example {int(empty[0])} has no modality present; drop it before fitting")
        targets = np.array([_label_index(label) for label in labels])

        accuracy_before = float((fuse_arrays(self.weights, probabilities, present).argmax(1) == targets).mean())
        a = np.zeros(NUM_MODALITIES)
        b = np.zeros((NUM_MODALITIES, NUM_BASIC))
        adam_a, adam_b = _Adam(a.shape, learning_rate), _Adam(b.shape, learning_rate)
        initial_loss = fusion_loss(a, b, probabilities, present, targets, class_l2)[1]
        for _ in range(steps):
            _, _, grad_a, grad_b = fusion_loss(a, b, probabilities, present, targets, class_l2)
            a = adam_a.step(a, grad_a)
            b = adam_b.step(b, grad_b)
        final_loss = fusion_loss(a, b, probabilities, present, targets, class_l2)[1]

        modality_weights = np.exp(a - a.max())
        class_weights = np.exp(b - b.max(axis=0, keepdims=True))
        provisional = FusionWeights(
            modality_weights / modality_weights.sum(), class_weights / class_weights.sum(axis=0, keepdims=True)
        )
        accuracy_after = float((fuse_arrays(provisional, probabilities, present).argmax(1) == targets).mean())
        report = FitReport(
            examples=len(targets),
            steps=steps,
            learning_rate=learning_rate,
            class_l2=class_l2,
            initial_loss=initial_loss,
            final_loss=final_loss,
            accuracy_before=accuracy_before,
            accuracy_after=accuracy_after,
            modality_counts={m: int(n) for m, n in zip(MODALITY_NAMES, present.sum(axis=0), strict=True)},
        )
        self.weights = FusionWeights(provisional.modality_weights, provisional.class_weights, report)
        return self

    def save(self, path: str | Path) -> Path:
        """Save the current weights as JSON (atomic write)."""
        return self.weights.save(path)

    @classmethod
    def load(cls, path: str | Path) -> MultiHeadProbabilityFusion:
        """A fusion with weights read from ``path`` (written by ``save``)."""
        return cls(FusionWeights.load(path))

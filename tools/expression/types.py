"""Expression results: basic-emotion probabilities, action-unit estimates, and their timelines per track.

One ``EmotionEstimate`` per face per frame. Probability vectors are float64 arrays of shape (7,) in
``BASIC_EMOTIONS`` order (Neutral, Anger, Disgust, Fear, Happiness, Sadness, Surprise). Action units computed from
the face mesh are geometric *estimates*, not the output of a trained AU detector, and say so in ``kind``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from tools.expression.labels import BASIC_EMOTIONS
from tools.faces.types import Box

AUKind = Literal["geometric-estimate", "model"]
AUReference = Literal["population", "track-neutral", "none"]


def _round(value: float | None, decimals: int = 4) -> float | None:
    return None if value is None else round(float(value), decimals)


def _probabilities_dict(probabilities: np.ndarray | None) -> dict[str, float] | None:
    if probabilities is None:
        return None
    return {label: round(float(p), 4) for label, p in zip(BASIC_EMOTIONS, probabilities, strict=True)}


@dataclass(frozen=True)
class AUEstimate:
    """One action unit for one face.

    ``intensity`` is on the FACS-like 0-5 scale (0 absent, 5 maximal). For ``kind="geometric-estimate"`` it maps
    ``delta``, the signed change of the AU's geometric measure from the reference face in units of the
    inter-ocular distance (or a ratio for eye closure), with per-AU scales set from real faces; for
    ``kind="model"`` ``delta`` is None. ``intensity`` is None when the AU could not be measured (head turned too
    far, eyes or mouth covered): ``not_measurable`` then says why, and no number stands in for it.
    """

    au: str
    name: str
    intensity: float | None
    delta: float | None = None
    kind: AUKind = "geometric-estimate"
    not_measurable: str | None = None

    @property
    def measurable(self) -> bool:
        return self.intensity is not None

    @property
    def present(self) -> bool:
        """Whether the AU is visibly on: intensity of at least 1 (FACS trace level A); False when not measured."""
        return self.intensity is not None and self.intensity >= 1.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "au": self.au,
            "name": self.name,
            "intensity": None if self.intensity is None else round(float(self.intensity), 3),
            "delta": _round(self.delta),
            "present": self.present,
            "kind": self.kind,
        }
        if self.not_measurable is not None:
            out["not_measurable"] = self.not_measurable
        return out


@dataclass(frozen=True)
class ActionUnits:
    """The action units of one face in one frame, from one backend.

    ``reference`` says what the geometric deltas are relative to: ``"population"`` (the median neutral face of
    real calibration photos, used for single images), ``"track-neutral"`` (the same person's most neutral frames
    in a video) or ``"none"`` (a trained model needs no reference).
    """

    units: tuple[AUEstimate, ...]
    kind: AUKind
    source: str
    reference: AUReference

    def __iter__(self) -> Iterator[AUEstimate]:
        return iter(self.units)

    def __len__(self) -> int:
        return len(self.units)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(u.au for u in self.units)

    def get(self, au: str) -> AUEstimate:
        """The estimate for ``au`` (e.g. ``"AU12"``); ``KeyError`` if this backend does not give it."""
        for unit in self.units:
            if unit.au == au:
                return unit
        raise KeyError(f"{au} is not estimated by {self.source}; available: {', '.join(self.names)}")

    def intensity(self, au: str) -> float:
        """The intensity of ``au``; ``ValueError`` naming the reason when it could not be measured."""
        unit = self.get(au)
        if unit.intensity is None:
            raise ValueError(f"{au} was not measured: {unit.not_measurable}")
        return unit.intensity

    def intensities(self, missing: float = float("nan")) -> np.ndarray:
        """Intensities (k,) in ``names`` order; ``missing`` (NaN by default) where an AU was not measurable."""
        return np.array([missing if u.intensity is None else u.intensity for u in self.units], dtype=np.float64)

    def active(self, min_intensity: float = 1.0) -> list[str]:
        """Measured AU names at or above ``min_intensity``, strongest first."""
        on = [(u.au, u.intensity) for u in self.units if u.intensity is not None and u.intensity >= min_intensity]
        return [au for au, _ in sorted(on, key=lambda item: -item[1])]

    def not_measurable(self) -> dict[str, str]:
        """``{au: reason}`` for the AUs that could not be measured on this face."""
        return {u.au: u.not_measurable or "not measured" for u in self.units if u.intensity is None}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "reference": self.reference,
            "units": [u.to_dict() for u in self.units],
        }


@dataclass(frozen=True, eq=False)
class EmotionEstimate:
    """Basic-emotion probabilities and action units for one face in one frame (or one image).

    ``probabilities`` is (7,) in ``BASIC_EMOTIONS`` order, or None when the expression model could not run on this
    face; ``skipped_reason`` then says why (e.g. the face is smaller than the model's minimum). ``model`` names the
    expression backend, ``action_units`` the AU estimates (None without a mesh or AU backend).
    """

    probabilities: np.ndarray | None
    model: str
    track_id: int | None = None
    time_s: float | None = None
    frame_index: int | None = None
    box: Box | None = None
    action_units: ActionUnits | None = None
    skipped_reason: str | None = None

    def __post_init__(self) -> None:
        if self.probabilities is not None:
            array = np.asarray(self.probabilities, dtype=np.float64).reshape(-1)
            if array.shape != (len(BASIC_EMOTIONS),):
                raise ValueError(f"probabilities must have shape ({len(BASIC_EMOTIONS)},); got {array.shape}")
            array = array.copy()
            array.setflags(write=False)
            object.__setattr__(self, "probabilities", array)

    @property
    def ok(self) -> bool:
        """Whether the expression model ran on this face."""
        return self.probabilities is not None

    @property
    def by_label(self) -> dict[str, float]:
        """``{"Neutral": p, "Anger": p, ...}``; empty when the model did not run."""
        if self.probabilities is None:
            return {}
        return {label: float(p) for label, p in zip(BASIC_EMOTIONS, self.probabilities, strict=True)}

    @property
    def top_label(self) -> str | None:
        if self.probabilities is None:
            return None
        return BASIC_EMOTIONS[int(np.argmax(self.probabilities))]

    @property
    def top_probability(self) -> float | None:
        return None if self.probabilities is None else float(np.max(self.probabilities))

    def probability(self, label: str) -> float:
        """The probability of one basic emotion (``ValueError`` for an unknown label, ``0.0`` if skipped)."""
        index = BASIC_EMOTIONS.index(label)
        return 0.0 if self.probabilities is None else float(self.probabilities[index])

    def to_modality(self, modality: str = "static_face") -> Any:
        """This estimate as one CER modality's input (``ModalityProbabilities``; missing when skipped)."""
        from tools.expression.modality import ModalityProbabilities

        if self.probabilities is None:
            return ModalityProbabilities.missing(modality, self.model)
        return ModalityProbabilities(modality, np.asarray(self.probabilities), self.model)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        return {
            "track_id": self.track_id,
            "time_s": _round(self.time_s, 3),
            "frame_index": self.frame_index,
            "box": self.box.to_list() if self.box else None,
            "model": self.model,
            "top_label": self.top_label,
            "top_probability": _round(self.top_probability),
            "probabilities": _probabilities_dict(self.probabilities),
            "action_units": self.action_units.to_dict() if self.action_units else None,
            "skipped_reason": self.skipped_reason,
        }


@dataclass(frozen=True, eq=False)
class ExpressionDynamics:
    """Temporal view of one track: the "dynamic face" modality.

    All arrays have one row per sampled frame of the track, in time order: ``times_s`` (n,), ``smoothed`` (n, 7)
    basic-emotion probabilities after temporal smoothing (rows sum to 1), ``velocity_per_s`` (n, 7) the rate of
    change of the smoothed probabilities, ``change`` (n,) the total-variation distance between the mean
    probabilities of the half-window before and after each frame (0 = steady, 1 = complete switch),
    ``au_velocity_per_s`` (n, k) the rate of change of AU intensities (or None without AUs).
    """

    times_s: np.ndarray
    smoothed: np.ndarray
    velocity_per_s: np.ndarray
    change: np.ndarray
    window_s: float
    au_names: tuple[str, ...] = ()
    au_velocity_per_s: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.times_s.shape[0])

    @property
    def top_labels(self) -> list[str]:
        return [BASIC_EMOTIONS[int(i)] for i in np.argmax(self.smoothed, axis=1)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_s": self.window_s,
            "frames": [
                {
                    "time_s": round(float(t), 3),
                    "probabilities": _probabilities_dict(self.smoothed[i]),
                    "top_label": BASIC_EMOTIONS[int(np.argmax(self.smoothed[i]))],
                    "change": round(float(self.change[i]), 4),
                }
                for i, t in enumerate(self.times_s)
            ],
        }


@dataclass(eq=False)
class ExpressionTimeline:
    """Every estimate of one track (one person) in time order, plus its dynamics once computed."""

    track_id: int
    estimates: list[EmotionEstimate] = field(default_factory=list)
    dynamics: ExpressionDynamics | None = None

    @property
    def times_s(self) -> np.ndarray:
        """(n,) frame times in seconds."""
        return np.array([e.time_s or 0.0 for e in self.estimates], dtype=np.float64)

    @property
    def probabilities(self) -> np.ndarray:
        """(n, 7) static per-frame probabilities; rows of NaN where the model could not run."""
        rows = [
            e.probabilities if e.probabilities is not None else np.full(len(BASIC_EMOTIONS), np.nan)
            for e in self.estimates
        ]
        return np.array(rows, dtype=np.float64).reshape(len(rows), len(BASIC_EMOTIONS))

    def label_counts(self) -> dict[str, int]:
        """How many frames had each top label (static model)."""
        counts: dict[str, int] = {}
        for estimate in self.estimates:
            if estimate.top_label is not None:
                counts[estimate.top_label] = counts.get(estimate.top_label, 0) + 1
        return counts

    def mean_probabilities(self) -> np.ndarray | None:
        """(7,) the mean over frames of the smoothed (else static) probabilities; None if no frame was scored."""
        source = self.dynamics.smoothed if self.dynamics is not None else self.probabilities
        valid = source[~np.isnan(source).any(axis=1)] if len(source) else source
        if len(valid) == 0:
            return None
        mean = valid.mean(axis=0)
        return np.asarray(mean / mean.sum())

    def to_dict(self, with_frames: bool = True) -> dict[str, Any]:
        mean = self.mean_probabilities()
        out: dict[str, Any] = {
            "track_id": self.track_id,
            "frames": len(self.estimates),
            "start_s": _round(self.estimates[0].time_s, 3) if self.estimates else None,
            "end_s": _round(self.estimates[-1].time_s, 3) if self.estimates else None,
            "mean_probabilities": _probabilities_dict(mean),
            "top_label": None if mean is None else BASIC_EMOTIONS[int(np.argmax(mean))],
            "label_counts": self.label_counts(),
        }
        if with_frames:
            out["estimates"] = [e.to_dict() for e in self.estimates]
            out["dynamics"] = self.dynamics.to_dict() if self.dynamics else None
        return out


@dataclass(eq=False)
class EmotionAnalysis:
    """Expression analysis of one media file: one timeline per tracked person."""

    path: str
    kind: str
    model: str
    au_source: str
    sample_fps: float
    timelines: list[ExpressionTimeline] = field(default_factory=list)
    seconds: float = 0.0

    def timeline(self, track_id: int) -> ExpressionTimeline:
        for timeline in self.timelines:
            if timeline.track_id == track_id:
                return timeline
        raise KeyError(f"no track {track_id}; tracks: {[t.track_id for t in self.timelines]}")

    @property
    def estimates(self) -> Sequence[EmotionEstimate]:
        return [e for t in self.timelines for e in t.estimates]

    def to_dict(self, with_frames: bool = True) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "model": self.model,
            "action_units": self.au_source,
            "sample_fps": self.sample_fps,
            "processing_s": round(self.seconds, 3),
            "people": len(self.timelines),
            "tracks": [t.to_dict(with_frames) for t in self.timelines],
        }

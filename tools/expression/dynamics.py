"""The "dynamic face" modality: per-track temporal smoothing and changes over a window.

A per-frame classifier flickers: one blurred frame can flip the label. Expressions last from a fraction of a
second (micro-expressions, ~0.5 s) to several seconds, so probabilities are smoothed with a Gaussian kernel in
*time* (frames need not be evenly spaced; frames the model skipped are ignored, not treated as zero), and the
changes that matter are measured over a window: the rate of change of each probability, the rate of change of
each action unit, and a change score (how different the half-window after a frame is from the half-window before
it). Pooling a segment of the smoothed track gives the dynamic-face opinion that compound-expression fusion takes.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.modality import ModalityProbabilities
from tools.expression.types import ExpressionDynamics, ExpressionTimeline

Pooling = Literal["mean", "apex"]
NEUTRAL = BASIC_EMOTIONS.index("Neutral")


def _check(times_s: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    times = np.asarray(times_s, dtype=np.float64).reshape(-1)
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] != times.shape[0]:
        raise ValueError(f"need one row per time: times {times.shape}, values {array.shape}")
    if times.size > 1 and np.any(np.diff(times) < 0):
        raise ValueError("times must be in increasing order")
    return times, array


def smooth_probabilities(times_s: np.ndarray, probabilities: np.ndarray, window_s: float) -> np.ndarray:
    """Gaussian smoothing in time of (n, 7) probabilities with rows of NaN where the model did not run.

    The kernel's standard deviation is ``window_s / 4`` (so ~95% of its weight lies within the window), rows are
    renormalised to sum to 1, and a frame with no scored frame within ``window_s`` stays NaN. Returns (n, 7).
    """
    times, probs = _check(times_s, probabilities)
    if window_s <= 0:
        raise ValueError(f"window_s must be > 0; got {window_s}")
    valid = ~np.isnan(probs).any(axis=1)
    out = np.full_like(probs, np.nan)
    if not valid.any():
        return out
    sigma = window_s / 4.0
    gaps = times[:, None] - times[valid][None, :]  # (n, m)
    weights = np.exp(-0.5 * (gaps / sigma) ** 2) * (np.abs(gaps) <= window_s)
    totals = weights.sum(axis=1)
    covered = totals > 0
    mixed = weights[covered] @ probs[valid] / totals[covered, None]
    out[covered] = mixed / mixed.sum(axis=1, keepdims=True)
    return out


def rate_of_change(times_s: np.ndarray, values: np.ndarray) -> np.ndarray:
    """d(values)/dt per second, (n, k), by finite differences over the (possibly uneven) times; zeros if n < 2.

    NaN rows stay NaN.
    """
    times, array = _check(times_s, values)
    if len(times) < 2:
        return np.zeros_like(array)
    unique = np.diff(times) > 0
    if not unique.all():  # repeated times (two estimates of one frame) cannot be differentiated
        times = times + np.concatenate([[0.0], np.cumsum(~unique) * 1e-6])
    return np.asarray(np.gradient(array, times, axis=0))


def change_score(times_s: np.ndarray, probabilities: np.ndarray, window_s: float) -> np.ndarray:
    """(n,) total-variation distance between the mean probabilities of the half-windows before and after each frame.

    0 means the expression is steady around the frame, 1 a complete switch; 0 where either side has no frame.
    """
    times, probs = _check(times_s, probabilities)
    half = window_s / 2.0
    valid = ~np.isnan(probs).any(axis=1)
    out = np.zeros(len(times))
    for i, t in enumerate(times):
        before = valid & (times >= t - half) & (times < t)
        after = valid & (times > t) & (times <= t + half)
        if before.any() and after.any():
            out[i] = 0.5 * float(np.abs(probs[after].mean(axis=0) - probs[before].mean(axis=0)).sum())
    return out


def compute_dynamics(timeline: ExpressionTimeline, window_s: float = 1.0) -> ExpressionDynamics:
    """Smoothed probabilities, their rates of change, the change score and AU rates of change of one track."""
    times = timeline.times_s
    static = timeline.probabilities
    smoothed = smooth_probabilities(times, static, window_s)
    velocity = rate_of_change(times, smoothed)
    change = change_score(times, smoothed, window_s)
    au_names: tuple[str, ...] = ()
    au_velocity = None
    with_aus = [e.action_units for e in timeline.estimates]
    if with_aus and all(a is not None for a in with_aus):
        au_names = with_aus[0].names  # type: ignore[union-attr]
        if all(a.names == au_names for a in with_aus):  # type: ignore[union-attr]
            # An AU not measurable in a frame counts as unchanged there (0): rates stay finite for the spotting.
            intensities = np.stack([a.intensities(missing=0.0) for a in with_aus])  # type: ignore[union-attr]
            au_velocity = rate_of_change(times, intensities)
        else:
            au_names = ()
    return ExpressionDynamics(times, smoothed, velocity, change, window_s, au_names, au_velocity)


def dynamic_face_probabilities(
    dynamics: ExpressionDynamics,
    start_s: float | None = None,
    end_s: float | None = None,
    pooling: Pooling = "mean",
    source: str = "fer-mini-xception+dynamics",
) -> ModalityProbabilities:
    """The dynamic-face modality for a segment: the track's smoothed probabilities pooled over [start_s, end_s].

    ``pooling="mean"`` averages the frames; ``"apex"`` weights each frame by the square of its non-neutral mass,
    so the peak of an expression outweighs the neutral frames around it. Missing when no frame falls in the
    segment.
    """
    times = dynamics.times_s
    inside = np.ones(len(times), dtype=bool)
    if start_s is not None:
        inside &= times >= start_s
    if end_s is not None:
        inside &= times <= end_s
    rows = dynamics.smoothed[inside]
    rows = rows[~np.isnan(rows).any(axis=1)] if len(rows) else rows
    if len(rows) == 0:
        return ModalityProbabilities.missing("dynamic_face", source)
    if pooling == "apex":
        weights = (1.0 - rows[:, NEUTRAL]) ** 2 + 1e-6
    elif pooling == "mean":
        weights = np.ones(len(rows))
    else:
        raise ValueError(f"pooling must be 'mean' or 'apex'; got {pooling!r}")
    pooled = weights @ rows / weights.sum()
    return ModalityProbabilities("dynamic_face", pooled / pooled.sum(), source)

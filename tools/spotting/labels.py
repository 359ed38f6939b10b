"""An emotion label for a spotted interval, read from the AU estimates at its apex (relative to the baseline).

The AUs come from mesh geometry (estimates, not a trained AU model), measured at the apex against the median face
of the surrounding baseline window, so a person's resting features do not count. Each basic emotion is scored by
the mean intensity of its prototype AUs (EMFACS-style prototypes, trimmed to the AUs the mesh can estimate); the
label is the best one. This is a heuristic reading of the geometry and is labelled as such in every result.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from tools.expression.action_units import AU_RULES, GeometricMeasures, au_signal
from tools.expression.au_calibration import AU_SCALES, TOP_READS
from tools.expression.types import ActionUnits, AUEstimate

# An AU listed twice counts double: it is the emotion's defining action (AU9 for disgust).
PROTOTYPES: Final[dict[str, tuple[str, ...]]] = {
    "Happiness": ("AU6", "AU12"),
    "Sadness": ("AU1", "AU4", "AU15", "AU17"),
    "Surprise": ("AU1", "AU2", "AU5", "AU26"),
    "Fear": ("AU1", "AU2", "AU4", "AU5", "AU20", "AU26"),
    "Anger": ("AU4", "AU7", "AU23"),
    "Disgust": ("AU9", "AU9", "AU15"),
}
# An AU "moved" in an interval when its apex intensity reaches this (FACS trace level A is 1).
MOVED_INTENSITY: Final[float] = 1.0
# The label needs less: a micro-expression is subtle, and the strongest prototype still says which way it went.
LABEL_MIN_INTENSITY: Final[float] = 0.3
# Eye closure alone is a blink, not an expression; it never labels an interval.
IGNORED_FOR_LABEL: Final[frozenset[str]] = frozenset({"AU45", "AU25"})


def apex_action_units(apex: GeometricMeasures, baseline: GeometricMeasures) -> ActionUnits:
    """AU estimates of the apex frame relative to the interval's baseline face (reference ``track-neutral``).

    The calibrated AU scale (``tools.expression.action_units``) starts counting above the person-to-person
    spread of neutral faces, which suits a face compared with other people's; here the face is compared with
    itself a few seconds earlier, so the change is read on the same scale without that offset:
    ``4 * (signal(apex) - signal(baseline)) / (top - onset)``. AUs read from an absolute measure (lips parted)
    thereby count only their change, so a mouth open throughout does not count as moving.
    """
    units = []
    for rule in AU_RULES:
        onset, top = AU_SCALES[rule.au]
        change = au_signal(rule, apex, baseline) - au_signal(rule, baseline, baseline)
        intensity = float(np.clip(TOP_READS * change / max(top - onset, 1e-9), 0.0, 5.0))
        units.append(AUEstimate(rule.au, rule.name, intensity, float(change), "geometric-estimate"))
    return ActionUnits(tuple(units), "geometric-estimate", "mesh-geometry (change from the interval baseline)",
                       "track-neutral")


def moved_units(units: ActionUnits, min_intensity: float = MOVED_INTENSITY) -> tuple[str, ...]:
    """"AU12 lip corner puller 2.1" for each AU at or above ``min_intensity``, strongest first."""
    on = sorted((u for u in units if (u.intensity or 0.0) >= min_intensity), key=lambda u: -(u.intensity or 0.0))
    return tuple(f"{u.au} {u.name} {u.intensity or 0.0:.1f}" for u in on)


def label_from_units(units: ActionUnits) -> tuple[str | None, float]:
    """(emotion, score 0-5) of the prototype whose AUs are strongest on average; (None, 0) when no AU reached
    ``LABEL_MIN_INTENSITY``."""
    intensity = {u.au: u.intensity or 0.0 for u in units if u.au not in IGNORED_FOR_LABEL}
    if not intensity or max(intensity.values()) < LABEL_MIN_INTENSITY:
        return None, 0.0
    scores = {
        emotion: sum(intensity.get(au, 0.0) for au in aus) / len(aus) for emotion, aus in PROTOTYPES.items()
    }
    best = max(scores, key=lambda e: scores[e])
    return (best, scores[best]) if scores[best] > 0 else (None, 0.0)

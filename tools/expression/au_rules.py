"""How each action unit is read from the mesh measures, and which part of the face it needs to see.

``signal = sum(weight * delta[measure])`` where ``delta`` is a measure minus the same measure on the reference
face; ``closure`` rules use ``1 - value / reference`` of one measure (eye closure), ``absolute`` rules the measure
itself above a closed-state constant (lips part). How a signal becomes a 0-5 intensity is set per AU from real
faces (``tools.expression.au_calibration``); ``legacy_full_scale`` is the hand-set scale used before that
calibration, kept for the before/after comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

FaceRegion = Literal["brows", "eyes", "lower face"]


@dataclass(frozen=True)
class AURule:
    """One AU: its name, the measure terms of its signal, how the signal is formed, the face region it needs."""

    au: str
    name: str
    terms: tuple[tuple[str, float], ...]
    legacy_full_scale: float
    region: FaceRegion
    mode: Literal["delta", "closure", "absolute"] = "delta"


AU_RULES: Final[tuple[AURule, ...]] = (
    AURule("AU1", "inner brow raiser", (("brow_inner_height", 1.0),), 0.12, "brows"),
    AURule("AU2", "outer brow raiser", (("brow_outer_height", 1.0),), 0.12, "brows"),
    AURule(
        "AU4",
        "brow lowerer",
        (("brow_inner_height", -0.5), ("brow_mid_height", -0.5), ("inner_brow_gap", -0.5)),
        0.10,
        "brows",
    ),
    AURule("AU5", "upper lid raiser", (("eye_opening", 1.0),), 0.10, "eyes"),
    AURule("AU6", "cheek raiser", (("cheek_height", -1.0),), 0.08, "eyes"),
    AURule("AU7", "lid tightener", (("lower_lid_height", -1.0),), 0.05, "eyes"),
    # A cheek raise (smile) lifts the nose wings too; half of it is discounted.
    AURule("AU9", "nose wrinkler", (("nose_wing_height", -1.0), ("cheek_height", 0.5)), 0.10, "lower face"),
    AURule("AU12", "lip corner puller", (("corner_height", -1.0), ("mouth_width", 0.3)), 0.25, "lower face"),
    # Corners below the lips' own centre line: an open jaw (surprise) moves corners and lip centre down together,
    # so it does not read as a depressed corner as it did against the nose.
    AURule("AU15", "lip corner depressor", (("corner_below_lip_centre", 1.0),), 0.10, "lower face"),
    AURule("AU17", "chin raiser", (("lower_lip_to_chin", -1.0),), 0.10, "lower face"),
    # Stretching widens the mouth without lifting the corners; a lift (a smile) counts against it.
    AURule("AU20", "lip stretcher", (("mouth_width", 1.0), ("corner_height", 2.0)), 0.15, "lower face"),
    AURule("AU23", "lip tightener", (("lip_thickness", -1.0),), 0.10, "lower face"),
    AURule("AU25", "lips part", (("lip_gap", 1.0),), 0.15, "lower face", "absolute"),
    AURule("AU26", "jaw drop", (("nose_to_chin", 1.0),), 0.25, "lower face"),
    AURule("AU45", "blink (eyes closing)", (("eye_opening", 1.0),), 0.8, "eyes", "closure"),
)
AU_NAMES: Final[tuple[str, ...]] = tuple(rule.au for rule in AU_RULES)
# Lips count as parted only above this inner-lip gap (IOD): the mesh's closed lips sit a few thousandths apart.
LIP_GAP_CLOSED: Final[float] = 0.02

"""Action units (FACS) from the 478-point face mesh: calibrated geometric estimates, plus a slot for a trained model.

No trained AU model ships in any package, so the embedded backend measures the mesh (``au_mesh``):

* **Pose.** The mesh is aligned onto a frontal template by a similarity fit on its rigid points (Procrustes),
  and measured there, in units of the inter-ocular distance (IOD).
* **Reference.** An AU is a *change* of the face. Each AU's ``delta`` is a measure minus the same measure on a
  reference face: in videos, the same person's most neutral frames (``neutral_baseline``); in single images, the
  median neutral face of real calibration photos at full resolution (``au_calibration``, made by
  ``evals/reference/au_calibration.py``). A single image therefore cannot tell a person's resting features (a
  naturally down-turned mouth) from an expression; the per-track baseline can.
* **Intensity.** Per-AU scales set from the spread of real faces: ``intensity = clip(4 * (signal - onset) /
  (top - onset), 0, 5)``, where ``onset`` is the person-to-person spread of the signal over neutral faces and
  ``top`` its 95th percentile over all calibration faces. Not calibrated against FACS-coded data: intensities
  are ordinal estimates; ``evals/bench/action_units.py`` reports how they agree with an expression classifier.
* **Reliability.** Where the head is turned too far or the eyes or mouth are covered (``au_reliability``), the
  AUs of that region are reported as not measurable, with the reason, instead of a number.

A trained AU model in ONNX (``OnnxActionUnits``, in ``au_onnx``) loads from a local folder when available.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

from tools.expression.au_calibration import AU_SCALES, NEUTRAL_REFERENCE, TOP_READS
from tools.expression.au_mesh import (
    MEASURES,
    MESH_POINTS,
    FrontalMesh,
    GeometricMeasures,
    align_to_frontal,
    check_mesh,
    face_frame,
    frontalize,
    measure_face,
    measure_points,
)
from tools.expression.au_onnx import OnnxActionUnits, OnnxAUConfig
from tools.expression.au_reliability import RegionCheck, region_checks
from tools.expression.au_rules import AU_NAMES, AU_RULES, LIP_GAP_CLOSED, AURule, FaceRegion
from tools.expression.types import ActionUnits, AUEstimate, AUReference
from tools.faces.types import Face, HeadPose

__all__ = [
    "AU_NAMES", "AU_RULES", "LIP_GAP_CLOSED", "MEASURES", "MESH_POINTS", "NEUTRAL_MEASURES",
    "POPULATION_MEASURES",
    "AURule", "FrontalMesh", "GeometricMeasures", "MeshGeometryAU", "OnnxAUConfig", "OnnxActionUnits",
    "action_units_from_measures", "align_to_frontal", "au_signal", "check_mesh", "estimate_action_units",
    "face_frame", "frontalize", "intensity_from_signal", "measure_face", "measure_points", "neutral_baseline",
    "unmeasurable_regions",
]

# The single-image reference: the median neutral face of the real calibration photos.
NEUTRAL_MEASURES: Final[GeometricMeasures] = GeometricMeasures.from_mapping(NEUTRAL_REFERENCE)
POPULATION_MEASURES: Final[GeometricMeasures] = NEUTRAL_MEASURES  # the name older callers use


def au_signal(rule: AURule, measures: GeometricMeasures, reference: GeometricMeasures) -> float:
    """The raw signal of one AU rule: a weighted sum of measure deltas (IOD), a closure ratio or a lip gap."""
    if rule.mode == "closure":
        name = rule.terms[0][0]
        return 1.0 - measures[name] / max(reference[name], 1e-6)
    if rule.mode == "absolute":
        return measures[rule.terms[0][0]] - LIP_GAP_CLOSED
    return float(sum(weight * (measures[name] - reference[name]) for name, weight in rule.terms))


def intensity_from_signal(au: str, signal: float) -> float:
    """0-5 intensity of a signal with the AU's calibrated (onset, top) scale."""
    onset, top = AU_SCALES[au]
    return float(np.clip(TOP_READS * (signal - onset) / max(top - onset, 1e-9), 0.0, 5.0))


def action_units_from_measures(
    measures: GeometricMeasures,
    reference: GeometricMeasures | None = None,
    reference_kind: AUReference = "population",
    checks: dict[FaceRegion, RegionCheck] | None = None,
) -> ActionUnits:
    """AU estimates from a face's measures relative to ``reference`` (default: the neutral calibration face).

    ``checks`` (from ``au_reliability.region_checks``) mark the regions that cannot be measured; their AUs get
    ``intensity=None`` and the reason.
    """
    ref = reference if reference is not None else NEUTRAL_MEASURES
    units = []
    for rule in AU_RULES:
        signal = au_signal(rule, measures, ref)
        check = checks.get(rule.region) if checks else None
        if check is not None and not check.measurable:
            units.append(AUEstimate(rule.au, rule.name, None, None, "geometric-estimate", check.reason))
            continue
        units.append(AUEstimate(rule.au, rule.name, intensity_from_signal(rule.au, signal), signal))
    return ActionUnits(tuple(units), "geometric-estimate", MeshGeometryAU.name, reference_kind)


def estimate_action_units(
    mesh: np.ndarray,
    reference: GeometricMeasures | None = None,
    image_rgb: np.ndarray | None = None,
    pose: HeadPose | None = None,
) -> ActionUnits:
    """Geometric AU estimates for one (478, 3) pixel mesh, relative to ``reference`` or the neutral reference.

    With ``image_rgb`` (H, W, 3) uint8, the one the mesh was found in, covered eyes or mouth are detected too;
    without it only the pose limits apply (``pose``, the face pipeline's head pose, else the template fit's).
    """
    frontal = align_to_frontal(mesh)
    kind: AUReference = "population" if reference is None else "track-neutral"
    checks = region_checks(image_rgb, np.asarray(mesh, dtype=np.float64), frontal, pose)
    return action_units_from_measures(measure_points(frontal.points, frontal.iod_px), reference, kind, checks)


def unmeasurable_regions(units: ActionUnits) -> dict[FaceRegion, RegionCheck]:
    """The region checks that failed on ``units`` (rebuilt from their not-measurable AUs), to carry them over
    when the same face is re-referenced."""
    regions = {rule.au: rule.region for rule in AU_RULES}
    out: dict[FaceRegion, RegionCheck] = {}
    for unit in units:
        if unit.intensity is None and unit.au in regions:
            out[regions[unit.au]] = RegionCheck(regions[unit.au], unit.not_measurable or "not measured")
    return out


def neutral_baseline(
    measures: Sequence[GeometricMeasures],
    neutral_probabilities: Sequence[float] | None = None,
    fraction: float = 0.25,
) -> GeometricMeasures:
    """A person's neutral face from their frames: the per-measure median over the most neutral frames.

    With ``neutral_probabilities`` (one per frame, from the expression model), the ``fraction`` of frames with the
    highest neutral probability (at least one) are used; without them, all frames (a person is taken to be
    neutral more often than not).
    """
    if not measures:
        raise ValueError("a neutral baseline needs at least one frame with a mesh")
    values = np.stack([m.values for m in measures])
    if neutral_probabilities is not None:
        scores = np.asarray(neutral_probabilities, dtype=np.float64)
        if scores.shape != (len(measures),):
            raise ValueError(f"need one neutral probability per frame ({len(measures)}); got {scores.shape}")
        keep = max(1, round(fraction * len(measures)))
        values = values[np.argsort(-scores, kind="stable")[:keep]]
    return GeometricMeasures(np.median(values, axis=0), float(np.median([m.iod_px for m in measures])))


class MeshGeometryAU:
    """The embedded AU backend: calibrated geometric estimates from ``Face.mesh``, relative to the neutral
    calibration face, with covered or turned regions reported as not measurable.

    Faces without a mesh get None. Videos re-reference these per track (``neutral_baseline``).
    """

    name = "mesh-geometry"
    kind = "geometric-estimate"

    def estimate(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> list[ActionUnits | None]:
        return [
            None if face.mesh is None else estimate_action_units(face.mesh, None, image_rgb, face.pose)
            for face in faces
        ]

"""Calibrate the geometric action units on real faces and write ``tools/expression/au_calibration.py``.

Uses only the *calibration* faces of ``evals.au_faces`` (the evaluation faces stay held out):

1. **Neutral faces**: calibration faces that the expression model calls Neutral (p >= ``NEUTRAL_MIN``) with the
   head within the measurable pose; a video's frames count as one person (per-person median).
2. **Frontal template**: the mean rigid points of the neutral faces, by generalised Procrustes (start from each
   face's eye-line frame, align all to the mean, re-average, three rounds), scaled to an inter-ocular distance of 1.
3. **Neutral reference**: the median of each measure over the neutral people, in the template frame.
4. **Per-AU scales** from the spread of real faces: ``onset`` is k times the robust spread (1.4826 x MAD) of the
   AU's signal over the neutral people (person-to-person variation of neutral faces reads 0), k chosen from
   ``ONSET_SPREADS`` for the best prototype agreement on the *calibration* faces' confident expression labels
   (``evals.au_faces.PROTOTYPES``; the evaluation faces are never scored here), ``top`` the 95th
   percentile of the signal over every calibration face (all expressions), at least ``onset + 2 x spread``
   (for eye closure, a ratio, at most 0.9);
   ``intensity = clip(4 * (signal - onset) / (top - onset), 0, 5)``, so the 95th percentile reads 4 and only
   signals 25 % beyond it reach the cap.

    /root/.cache/mien-venv/bin/python -m evals.reference.au_calibration [--write]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from evals.au_faces import CONFIDENT, PROTOTYPE_AUS, PROTOTYPES, FaceSample, face_samples
from tools.expression.au_mesh import (
    MEASURES,
    RIGID_POINTS,
    align_to_frontal,
    frontalize,
    interocular_px,
    measure_points,
)
from tools.expression.au_reliability import MAX_PITCH_DEG, MAX_YAW_DEG
from tools.expression.au_rules import AU_RULES
from tools.expression.labels import BASIC_EMOTIONS

NEUTRAL_MIN = 0.35
TOP_QUANTILE = 0.95
TOP_READS = 4.0
MIN_SPREAD = 0.003  # IOD: below this a spread is the mesh's own jitter
ONSET_SPREADS = (0.0, 0.25, 0.5, 0.75, 1.0)  # candidate onsets, in neutral spreads
TARGET = Path(__file__).resolve().parents[2] / "tools" / "expression" / "au_calibration.py"


def template_from(meshes: list[np.ndarray], pitches_deg: list[float], rounds: int = 3) -> np.ndarray:
    """Generalised Procrustes mean of the meshes' rigid points, centred between the eyes, IOD 1, then turned
    about its x axis so that the fit's pitch of these faces averages the face pipeline's pitch (``pitches_deg``,
    the camera-relative head pose): the eye-line/midline start frame leans with the sloping forehead."""
    shapes = [frontalize(m)[0] for m in meshes]
    template = np.mean([s[list(RIGID_POINTS)] for s in shapes], axis=0)
    for _ in range(rounds):
        aligned = [align_to_frontal(m, template).points for m in meshes]
        mean_mesh = np.mean(aligned, axis=0)
        iod = interocular_px(mean_mesh)
        eyes = (mean_mesh[[33, 133]].mean(axis=0) + mean_mesh[[362, 263]].mean(axis=0)) / 2.0
        template = (mean_mesh[list(RIGID_POINTS)] - eyes) / iod
    for _ in range(3):  # the pitch of the fit is nearly linear in the template's tilt
        offset = np.mean([align_to_frontal(m, template).pitch_deg for m in meshes]) - np.mean(pitches_deg)
        angle = np.radians(offset)
        tilt = np.array([[1, 0, 0], [0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)]])
        for sign in (1.0, -1.0):
            turned = template @ (tilt if sign > 0 else tilt.T).T
            after = np.mean([align_to_frontal(m, turned).pitch_deg for m in meshes]) - np.mean(pitches_deg)
            if abs(after) < abs(offset):
                template = turned
                break
    return template


def signals(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(n, len(AU_RULES)) raw AU signals of measure rows (n, len(MEASURES)) against ``reference``."""
    from tools.expression.au_rules import LIP_GAP_CLOSED

    out = np.zeros((len(values), len(AU_RULES)))
    for j, rule in enumerate(AU_RULES):
        first = MEASURES.index(rule.terms[0][0])
        if rule.mode == "closure":
            out[:, j] = 1.0 - values[:, first] / max(reference[first], 1e-6)
        elif rule.mode == "absolute":
            out[:, j] = values[:, first] - LIP_GAP_CLOSED
        else:
            for name, weight in rule.terms:
                k = MEASURES.index(name)
                out[:, j] += weight * (values[:, k] - reference[k])
    return out


def prototype_agreement(samples: list[FaceSample], rows: np.ndarray, scales: dict[str, tuple[float, float]]) -> float:
    """Mean balanced agreement ((hit rate + 1 - false-on rate) / 2) of the prototype AUs with confident
    expression-classifier labels, over the AUs with faces on both sides."""
    index = {rule.au: j for j, rule in enumerate(AU_RULES)}
    scores = []
    for au in PROTOTYPE_AUS:
        onset, top = scales[au]
        on: list[bool] = []
        off: list[bool] = []
        for sample, row in zip(samples, rows, strict=True):
            label = BASIC_EMOTIONS[int(np.argmax(sample.probabilities))]
            if float(np.max(sample.probabilities)) < CONFIDENT or label == "Fear":
                continue
            present = TOP_READS * (row[index[au]] - onset) / max(top - onset, 1e-9) >= 1.0
            (on if au in PROTOTYPES.get(label, ()) else off).append(present)
        if on and off:
            scores.append((np.mean(on) + 1.0 - np.mean(off)) / 2.0)
    return float(np.mean(scores)) if scores else 0.0


def per_person_median(samples: list[FaceSample], rows: np.ndarray) -> np.ndarray:
    groups: dict[str, list[int]] = defaultdict(list)
    for i, sample in enumerate(samples):
        groups[sample.person].append(i)
    return np.stack([np.median(rows[idx], axis=0) for idx in groups.values()])


def calibrate() -> dict[str, object]:
    samples = face_samples("calibration")
    neutral_index = BASIC_EMOTIONS.index("Neutral")

    def pose_ok(sample: FaceSample, template: np.ndarray | None) -> bool:
        assert sample.face.mesh is not None
        if template is None:
            return sample.face.pose is None or (
                abs(sample.face.pose.yaw_deg) <= MAX_YAW_DEG and abs(sample.face.pose.pitch_deg) <= MAX_PITCH_DEG
            )
        frontal = align_to_frontal(sample.face.mesh, template)
        return abs(frontal.yaw_deg) <= MAX_YAW_DEG and abs(frontal.pitch_deg) <= MAX_PITCH_DEG

    neutral = [
        s for s in samples
        if int(np.argmax(s.probabilities)) == neutral_index and s.probabilities[neutral_index] >= NEUTRAL_MIN
        and pose_ok(s, None)
    ]
    template = template_from(
        [s.face.mesh for s in neutral],  # type: ignore[misc]
        [s.face.pose.pitch_deg if s.face.pose else 0.0 for s in neutral],
    )
    neutral = [s for s in neutral if pose_ok(s, template)]
    usable = [s for s in samples if pose_ok(s, template)]

    def measures(group: list[FaceSample]) -> np.ndarray:
        rows = []
        for s in group:
            frontal = align_to_frontal(s.face.mesh, template)  # type: ignore[arg-type]
            rows.append(measure_points(frontal.points, frontal.iod_px).values)
        return np.stack(rows)

    neutral_people = per_person_median(neutral, measures(neutral))
    reference = np.median(neutral_people, axis=0)
    neutral_signals = signals(neutral_people, reference)
    all_signals = signals(measures(usable), reference)

    def scales_for(onset_spreads: float) -> dict[str, tuple[float, float]]:
        out: dict[str, tuple[float, float]] = {}
        for j, rule in enumerate(AU_RULES):
            column = neutral_signals[:, j]
            spread = max(1.4826 * float(np.median(np.abs(column - np.median(column)))), MIN_SPREAD)
            onset = onset_spreads * spread
            if rule.mode == "absolute":  # lips part: above the neutral faces' own gap
                onset = max(onset, float(np.median(column)) + onset_spreads * spread)
            top = max(float(np.quantile(all_signals[:, j], TOP_QUANTILE)), onset + 2.0 * spread)
            if rule.mode == "closure":  # a ratio: a fully closed eye is 1
                top = min(top, 0.9)
            out[rule.au] = (round(onset, 4), round(top, 4))
        return out

    # The onset, in neutral spreads, that agrees best with the prototypes on the *calibration* faces.
    scored = {k: prototype_agreement(usable, all_signals, scales_for(k)) for k in ONSET_SPREADS}
    best = max(ONSET_SPREADS, key=lambda k: (round(scored[k], 3), k))
    scales = scales_for(best)
    return {
        "onset_spreads": best,
        "agreement": {k: round(v, 3) for k, v in scored.items()},
        "template": template,
        "reference": dict(zip(MEASURES, reference, strict=True)),
        "scales": scales,
        "neutral": sorted({s.person for s in neutral}),
        "faces": len(usable),
        "people": len({s.person for s in usable}),
    }


def render(result: dict[str, object]) -> str:
    template = np.asarray(result["template"])
    reference: dict[str, float] = result["reference"]  # type: ignore[assignment]
    scales: dict[str, tuple[float, float]] = result["scales"]  # type: ignore[assignment]
    neutral: list[str] = result["neutral"]  # type: ignore[assignment]
    lines = [
        '"""Calibration of the geometric action units on real faces. GENERATED by',
        "``python -m evals.reference.au_calibration --write``; do not edit by hand.",
        "",
        f"From {result['faces']} calibration faces of {result['people']} people (``evals.au_faces``, split"
        " ``calibration``);",
        f"the neutral reference and the frontal template from the {len(neutral)} neutral people among them;",
        f"onset = {result['onset_spreads']} neutral spreads (prototype agreement on the calibration faces by onset:",
        f"{result['agreement']}).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Final",
        "",
        f"NEUTRAL_PEOPLE: Final[tuple[str, ...]] = {tuple(neutral)!r}",
        "",
        "# Rigid points (tools.expression.au_mesh.RIGID_POINTS) of the mean neutral face: x right, y down, z towards",
        "# the camera's far side, origin between the eyes, inter-ocular distance 1.",
        "FRONTAL_TEMPLATE: Final[tuple[tuple[float, float, float], ...]] = (",
        *[f"    ({x:.5f}, {y:.5f}, {z:.5f})," for x, y, z in template],
        ")",
        "",
        "# The median measures of the neutral people, in template-IOD units.",
        "NEUTRAL_REFERENCE: Final[dict[str, float]] = {",
        *[f'    "{name}": {value:.4f},' for name, value in reference.items()],
        "}",
        "",
        "# Per AU: (onset, top) signal. Intensity = clip(4 * (signal - onset) / (top - onset), 0, 5).",
        "AU_SCALES: Final[dict[str, tuple[float, float]]] = {",
        *[f'    "{au}": ({onset:.4f}, {top:.4f}),' for au, (onset, top) in scales.items()],
        "}",
        f"TOP_READS: Final[float] = {TOP_READS}",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {TARGET.name} (else print it)")
    args = parser.parse_args(argv)
    text = render(calibrate())
    if args.write:
        tmp = TARGET.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(TARGET)
        print(f"wrote {TARGET}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

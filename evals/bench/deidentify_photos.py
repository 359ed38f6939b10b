"""Benchmark: de-identification of every labelled real photo, checked by detectors that did not choose the regions.

For each photo of ``evals.detection_set`` (45 hand-labelled faces), ``hide_faces`` runs as ``mien deidentify`` does
(the ensemble finds, the checkers check, the residual search repeats). Reported per photo and in total:

* hiding-stage recall: labelled faces of which at least ``COVERED`` of the box lies under the hidden region;
* faces left: labelled faces that any detector still finds in the output, for each of BlazeFace (0.3), MTCNN
  (0.6), dlib HOG, dlib MMOD and OpenCV Haar (the last three never chose a region), at low thresholds;
* share of the picture hidden; the same for the old hider (BlazeFace alone, the baseline) in the same run.

``--sheet PATH`` writes a contact sheet of every output (PNG) to look at.

    python -m evals.bench.deidentify_photos [--sheet out/deidentified.png] [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from evals.bench import run_bench
from evals.detection_scoring import matches
from evals.detection_set import LabelledPhoto, labelled_photos
from tools.deidentify import FaceMaskStyle, hide_faces
from tools.deidentify.faces import hidden_mask
from tools.deidentify.hiding import FaceHider, detector_at
from tools.faces.protocols import Detector
from tools.settings import Settings

COVERED = 0.9


def judges() -> dict[str, Detector]:
    """Detectors that look for faces left in the outputs, at low thresholds."""
    from tools.faces.detect_dlib import DlibHogDetector
    from tools.faces.detect_mediapipe import MediapipeDetector
    from tools.faces.detect_mmod import MmodDetector
    from tools.faces.detect_mtcnn import MtcnnDetector
    from tools.faces.detect_opencv import HaarDetector

    return {
        "blazeface": MediapipeDetector(min_score=0.3),
        "mtcnn": MtcnnDetector(min_score=0.6),
        "dlib-hog": DlibHogDetector(max_side_px=1280),
        "dlib-mmod": MmodDetector(),
        "opencv-haar": HaarDetector(),
    }


def evaluate(photo: LabelledPhoto, hider: FaceHider, look: dict[str, Detector]) -> tuple[dict[str, Any], np.ndarray]:
    image = photo.image()
    result = hide_faces(image, hider=hider)
    height, width = image.shape[:2]
    mask = hidden_mask(height, width, result.boxes, hider.style) | hidden_mask(
        height, width, list(result.residual_boxes), hider.residual_style
    )
    covered = []
    for face in photo.faces:
        b = face.box.clipped(width, height)
        patch = mask[int(b.y0) : int(np.ceil(b.y1)), int(b.x0) : int(np.ceil(b.x1))]
        covered.append(float(patch.mean()) if patch.size else 1.0)
    left: dict[str, int] = {}
    for name, detector in look.items():
        found = detector.detect(result.image)
        left[name] = sum(1 for face in photo.faces if any(matches(f.box, face.box) for f in found))
    out = {
        "photo": photo.photo_id,
        "faces": len(photo.faces),
        "hidden": sum(c >= COVERED for c in covered),
        "regions": len(result.boxes),
        "found_on_check": result.residual_faces,
        "found_by_checkers": result.checked_faces,
        "faces_left": left,
        "share_hidden": round(float(mask.mean()), 3),
    }
    return out, result.image


def sheet(images: list[tuple[str, np.ndarray]], path: Path, side: int = 360) -> None:
    tiles = []
    for name, image in images:
        scale = side / max(image.shape[:2])
        small = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)))
        tile = np.full((side, side, 3), 255, np.uint8)
        tile[: small.shape[0], : small.shape[1]] = small
        cv2.putText(tile, name, (4, side - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 0, 0), 1)
        tiles.append(tile)
    while len(tiles) % 4:
        tiles.append(np.full((side, side, 3), 255, np.uint8))
    rows = [np.hstack(tiles[i : i + 4]) for i in range(0, len(tiles), 4)]
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sheet", type=Path, help="Write a contact sheet of the outputs (PNG) here.")
    parser.add_argument("--baseline", action="store_true", help="Also run the old hider (BlazeFace alone).")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    look = judges()
    hiders = {"ensemble + checks": FaceHider.from_settings("blur", settings=Settings())}
    if args.baseline:
        old = Settings()
        hiders["baseline: BlazeFace alone"] = FaceHider(
            FaceMaskStyle(margin=old.deidentify_margin),
            detector_at("mediapipe", old.deidentify_detection_threshold),
            detector_at("mediapipe", old.deidentify_residual_threshold),
        )
    report: dict[str, Any] = {}
    for name, hider in hiders.items():
        rows, outputs = [], []
        for photo in labelled_photos():
            row, image = evaluate(photo, hider, look)
            rows.append(row)
            outputs.append((photo.photo_id, image))
        totals = {
            "faces": sum(r["faces"] for r in rows),
            "hidden": sum(r["hidden"] for r in rows),
            "found_on_check": sum(r["found_on_check"] for r in rows),
            "found_by_checkers": sum(r["found_by_checkers"] for r in rows),
            "faces_left": {k: sum(r["faces_left"][k] for r in rows) for k in look},
            "share_hidden": round(float(np.mean([r["share_hidden"] for r in rows])), 3),
        }
        totals["hiding_recall"] = round(totals["hidden"] / totals["faces"], 3)
        report[name] = {"photos": rows, "total": totals}
        if args.sheet and name == "ensemble + checks":
            sheet(outputs, args.sheet)
    if args.json:
        print(json.dumps(report, indent=2))
        return
    for name, data in report.items():
        print(f"== {name}")
        for r in data["photos"]:
            print(
                f"  {r['photo']:<18} hidden {r['hidden']}/{r['faces']}  regions {r['regions']}  "
                f"found on check {r['found_on_check']} (checkers {r['found_by_checkers']})  "
                f"left {r['faces_left']}  share hidden {r['share_hidden']}"
            )
        print(f"  TOTAL {json.dumps(data['total'])}")


if __name__ == "__main__":
    run_bench(main)

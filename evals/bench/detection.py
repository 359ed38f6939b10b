"""Benchmark: face detection recall, precision and cost on the labelled real-photo set, per detector and fused.

Every detector runs once on every photo of ``evals.detection_set`` (14 photos, 45 hand-labelled faces: groups,
faces cut by the frame, composited masks, small, turned, occluded, dark); each is timed, and its raw faces (at a
low threshold) are kept so that fusions and thresholds are scored from the same outputs. The baseline is plain
BlazeFace as Mien ran it before (``mediapipe``: short + full range, tiled, at the analysis threshold 0.5), measured
in the same run; costs are printed as ms per photo (mean) and on the 1280x720 photo, and as a ratio to it.

    python -m evals.bench.detection [--skip-mmod] [--json] [--sheet out/detections.png]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.bench import run_bench
from evals.detection_scoring import score_photo, summarize
from evals.detection_set import FLAGS, LabelledPhoto, labelled_photos
from tools.faces.fusion import fuse_faces
from tools.faces.protocols import Detector
from tools.faces.types import Face

FRAME_720P = "zidane"  # the set's 1280x720 photo: its time is the per-frame cost of a 720p video frame


@dataclass
class Run:
    """One detector's raw faces and seconds per photo."""

    faces: dict[str, list[Face]]
    seconds: dict[str, float]


def members(skip_mmod: bool) -> dict[str, Callable[[], Detector]]:
    """The detectors measured, built lazily, each at a low threshold (thresholds are applied when scoring)."""
    from tools.faces.detect_mediapipe import MediapipeDetector
    from tools.faces.detect_mtcnn import MtcnnDetector
    from tools.faces.detect_opencv import HaarDetector
    from tools.faces.mirrored import MirroredDetector
    from tools.faces.padded import PaddedDetector

    out: dict[str, Callable[[], Detector]] = {
        "mediapipe": lambda: MediapipeDetector(min_score=0.3),
        "mediapipe-padded": lambda: PaddedDetector(MediapipeDetector(min_score=0.3)),
        "mediapipe-mirrored": lambda: MirroredDetector(MediapipeDetector(min_score=0.3)),
        "mtcnn": lambda: MtcnnDetector(min_score=0.6),
        "opencv-haar": lambda: HaarDetector(),
    }
    if not skip_mmod:
        from tools.faces.detect_mmod import MmodDetector

        out["dlib-mmod"] = lambda: MmodDetector()
    return out


def run_detector(detector: Detector, photos: Sequence[LabelledPhoto]) -> Run:
    detector.detect(photos[0].image())  # load / warm up outside the timing
    run = Run({}, {})
    for photo in photos:
        image = photo.image()
        started = time.perf_counter()
        run.faces[photo.photo_id] = detector.detect(image)
        run.seconds[photo.photo_id] = time.perf_counter() - started
    return run


def above(faces: list[Face], threshold: float) -> list[Face]:
    return [f for f in faces if f.score >= threshold]


def threshold(thresholds: dict[str, float], name: str) -> float:
    """A member's threshold; padded and mirrored passes use their detector's."""
    return thresholds.get(name, thresholds[name.removesuffix("-padded").removesuffix("-mirrored")])


def row(
    name: str, photos: Sequence[LabelledPhoto], faces: dict[str, list[Face]], seconds: dict[str, float]
) -> dict[str, Any]:
    summary = summarize(score_photo(p, faces[p.photo_id]) for p in photos)
    out: dict[str, Any] = {
        "detector": name,
        "recall": round(summary.recall, 3),
        "precision": round(summary.precision, 3),
        "found": f"{summary.found}/{summary.faces}",
        "false_alarms": summary.false_alarms,
    }
    for flag in FLAGS:
        hit, total = summary.by_flag[flag]
        out[flag] = f"{hit}/{total}"
    out["ms_per_photo"] = round(1000 * sum(seconds.values()) / len(seconds), 1)
    out["ms_720p"] = round(1000 * seconds[FRAME_720P], 1)
    return out


# Per-member analysis thresholds: BlazeFace as the pipeline uses it, MTCNN's usual 0.9 on O-Net.
THRESHOLDS = {"mediapipe": 0.5, "mtcnn": 0.9, "opencv-haar": 0.0, "dlib-mmod": 0.5}
PRIVACY_THRESHOLDS = {"mediapipe": 0.35, "mediapipe-padded": 0.6, "mtcnn": 0.8, "opencv-haar": 0.0, "dlib-mmod": 0.5}
BLAZEFACE = ("mediapipe", "mediapipe-padded", "mediapipe-mirrored")
CHOSEN = (*BLAZEFACE, "mtcnn")

FUSIONS: dict[str, tuple[tuple[str, ...], int]] = {
    "fused: BlazeFace plain + padded + mirrored": (BLAZEFACE, 1),
    "fused: mediapipe + mtcnn": (("mediapipe", "mtcnn"), 1),
    "fused: BlazeFace x3 + mtcnn (the ensemble)": (CHOSEN, 1),
    "fused: BlazeFace x3 + mtcnn, 2 votes or sure (analysis)": (CHOSEN, 2),
    "fused: BlazeFace x3 + mtcnn + mmod + haar": ((*CHOSEN, "dlib-mmod", "opencv-haar"), 1),
    "fused: BlazeFace x3 + mtcnn + mmod + haar, 2 votes or sure": ((*CHOSEN, "dlib-mmod", "opencv-haar"), 2),
}
SURE_SCORE = 0.95  # one detector this sure keeps a face without a second vote


def draw_sheet(photos: Sequence[LabelledPhoto], runs: dict[str, Run], path: Path, side: int = 300) -> None:
    """Every photo with its labels (green), the privacy ensemble's faces (magenta) and BlazeFace's (orange)."""
    import cv2
    import numpy as np

    tiles = []
    for photo in photos:
        image = photo.image().copy()
        plain = above(runs["mediapipe"].faces[photo.photo_id], THRESHOLDS["mediapipe"])
        members = [m for m in CHOSEN if m in runs]
        fused = fuse_faces(
            [f for m in members for f in above(runs[m].faces[photo.photo_id], threshold(PRIVACY_THRESHOLDS, m))]
        )
        t = max(2, image.shape[1] // 300)
        for inset, colour, boxes in (
            (0, (0, 255, 0), [f.box for f in photo.faces]),
            (t, (255, 0, 255), [f.box for f in fused]),
            (2 * t, (255, 128, 0), [f.box for f in plain]),
        ):
            for b in boxes:
                corner0 = (int(b.x0) + inset, int(b.y0) + inset)
                corner1 = (int(b.x1) - inset, int(b.y1) - inset)
                cv2.rectangle(image, corner0, corner1, colour, t)
        scale = side / max(image.shape[:2])
        small = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)))
        tile = np.full((side, side, 3), 255, np.uint8)
        tile[: small.shape[0], : small.shape[1]] = small
        cv2.putText(tile, photo.photo_id, (4, side - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
        tiles.append(tile)
    while len(tiles) % 4:
        tiles.append(np.full((side, side, 3), 255, np.uint8))
    grid = np.vstack([np.hstack(tiles[i : i + 4]) for i in range(0, len(tiles), 4)])
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-mmod", action="store_true", help="Leave out dlib's MMOD CNN (the slowest).")
    parser.add_argument("--json", action="store_true", help="Print the table as JSON.")
    parser.add_argument(
        "--sheet",
        type=Path,
        help="Write a contact sheet (PNG): labels green, the privacy ensemble magenta, plain BlazeFace orange.",
    )
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    photos = labelled_photos()
    runs = {name: run_detector(build(), photos) for name, build in members(args.skip_mmod).items()}
    rows = []
    for label, thresholds in (("", THRESHOLDS), (" @privacy", PRIVACY_THRESHOLDS)):
        for name, run in runs.items():
            if label and name in ("opencv-haar", "dlib-mmod"):
                continue
            faces = {pid: above(f, threshold(thresholds, name)) for pid, f in run.faces.items()}
            rows.append(row(name + label, photos, faces, run.seconds))
        for name, (used, votes) in FUSIONS.items():
            if any(member not in runs for member in used):
                continue
            fused = {
                p.photo_id: fuse_faces(
                    [f for m in used for f in above(runs[m].faces[p.photo_id], threshold(thresholds, m))],
                    min_votes=votes,
                    single_score=SURE_SCORE,
                )
                for p in photos
            }
            seconds = {p.photo_id: sum(runs[m].seconds[p.photo_id] for m in used) for p in photos}
            rows.append(row(name + label, photos, fused, seconds))
    if args.sheet:
        draw_sheet(photos, runs, args.sheet)
    baseline = rows[0]
    for r in rows:
        r["cost_vs_mediapipe"] = round(r["ms_per_photo"] / baseline["ms_per_photo"], 2)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(
        f"{len(photos)} photos, {sum(len(p.faces) for p in photos)} labelled faces; baseline: mediapipe (BlazeFace, "
        "tiled, 0.5) in the same run"
    )
    columns = ["recall", "precision", "false_alarms", *FLAGS, "ms_per_photo", "ms_720p", "cost_vs_mediapipe"]
    print(f"{'detector':<58}" + "".join(f"{c:>10}" for c in columns))
    for r in rows:
        print(f"{r['detector']:<58}" + "".join(f"{r[c]!s:>10}" for c in columns))


if __name__ == "__main__":
    run_bench(main)

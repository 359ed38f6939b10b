"""A contact sheet of turned faces, to check by eye that a render looks like the same person turned.

One row per face, one column per yaw turn (-60..60); each cell is the head region of the turned photo, cut at the
same place as the original's so that the motion of the face shows. The original's cell gives the photo's own yaw
(faces past 45 degrees are refused by ``mien augment pose``; they are shown to see why).

    python -m evals.augment.contact_sheet [--out out/augment]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from evals.augment.faces import SampleFace, photo_faces
from tools.augment import turn_face
from tools.faces.pose import pose_from_mesh
from tools.media import save_image

SHEET_TURNS = (-60.0, -45.0, -30.0, -15.0, 0.0, 15.0, 30.0, 45.0, 60.0)
CELL_PX = 150
CROP_SCALE = 1.9


def head_crop(image: np.ndarray, sample: SampleFace) -> np.ndarray:
    """The square around the original face (``CROP_SCALE`` times its mesh extent), reflect-padded, at CELL_PX."""
    points = sample.mesh[:, :2]
    centre = (points.min(axis=0) + points.max(axis=0)) / 2.0
    side = CROP_SCALE * float(np.max(points.max(axis=0) - points.min(axis=0)))
    scale = CELL_PX / side
    matrix = np.array([[scale, 0.0, CELL_PX / 2 - centre[0] * scale], [0.0, scale, CELL_PX / 2 - centre[1] * scale]])
    return cv2.warpAffine(image, matrix, (CELL_PX, CELL_PX), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT_101)


def _label(cell: np.ndarray, text: str) -> np.ndarray:
    out = cell.copy()
    cv2.putText(out, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def contact_sheet(samples: Sequence[SampleFace], out_dir: Path, turns: Sequence[float] = SHEET_TURNS) -> Path:
    """Write ``contact_sheet.png`` into ``out_dir``: rows are faces, columns are yaw turns; returns its path."""
    rows = []
    for sample in samples:
        cells: list[np.ndarray] = []
        for turn in turns:
            image = sample.image if turn == 0 else turn_face(sample.image, sample.mesh, turn).image
            label = f"original, yaw {pose_from_mesh(sample.mesh).yaw_deg:+.0f}" if turn == 0 else f"{turn:+.0f} deg"
            cells.append(_label(head_crop(image, sample), label if cells else f"{sample.name}: {label}"))
        rows.append(np.hstack(cells))
    return save_image(Path(out_dir) / "contact_sheet.png", np.vstack(rows))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("out/augment"))
    args = parser.parse_args(argv)
    samples = [s for s in photo_faces() if s.name == "astronaut" or s.name.startswith("t1")]
    print(f"wrote {contact_sheet(samples, args.out)}")


if __name__ == "__main__":
    main()

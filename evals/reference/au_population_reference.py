"""The reference the geometric action units used *before* calibration: median mesh measures over LFW thumbnails.

Kept to reproduce the "before" column of ``evals/bench/action_units.py`` (``LEGACY_REFERENCE`` there); the AUs
now use ``tools/expression/au_calibration.py`` (``evals/reference/au_calibration.py``), built from real neutral
faces at full resolution. This one took the median of each measure, in the older eye-line frame, over the face
crops of scikit-image's LFW subset (100 real faces, 25x25 px, mixed expressions), each upscaled 4x (bicubic),
padded with its border and meshed with the project's mediapipe landmarker.

    /root/.cache/mien-venv/bin/python evals/reference/au_population_reference.py
"""

from __future__ import annotations

import sys

import numpy as np
from PIL import Image

from evals.samples import lfw_subset
from tools.expression.au_mesh import MEASURES, measure_face_eye_frame
from tools.faces import get_landmarker
from tools.faces.types import Box, Face

UPSCALE = 4
PAD_PX = 50


def population_measures() -> np.ndarray:
    """(n, len(MEASURES)) measures of the LFW-subset faces the mesh accepts."""
    images, is_face = lfw_subset()
    landmarker = get_landmarker("mediapipe-mesh")
    rows = []
    for image in images[is_face]:
        gray = Image.fromarray(np.clip(image * 255.0, 0, 255).astype(np.uint8))
        side = gray.width * UPSCALE
        big = np.asarray(gray.resize((side, side), Image.Resampling.BICUBIC))
        rgb = np.pad(np.stack([big] * 3, axis=-1), ((PAD_PX, PAD_PX), (PAD_PX, PAD_PX), (0, 0)), mode="edge")
        face = Face(box=Box(PAD_PX, PAD_PX, PAD_PX + side, PAD_PX + side), score=1.0)
        landmarker.add_landmarks(rgb, [face])
        if face.mesh is not None:
            rows.append(measure_face_eye_frame(face.mesh).values)
    return np.stack(rows)


def main() -> int:
    values = population_measures()
    print(f"# {len(values)} faces meshed")
    print("LEGACY_REFERENCE: dict[str, float] = {")
    for name, median in zip(MEASURES, np.median(values, axis=0), strict=True):
        if name == "corner_below_lip_centre":  # measured only since the calibration
            continue
        print(f'    "{name}": {median:.4f},')
    print("}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

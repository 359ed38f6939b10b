"""Expression warps for spotting clips, on top of the mesh warps of ``evals/mesh_warps.py``.

Each expression is a displacement of mesh points scaled by an amplitude in inter-ocular distances, so a clip can
ramp it up and down over known frames: happiness (mouth corners up), anger (brows down and together), surprise
(brows up), sadness (mouth corners down, inner brows up).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np

from evals.mesh_warps import (
    BROWS,
    MOUTH_CORNERS,
    Displacement,
    _axes,
    _gaussian_pull,
    lower_brows,
    raise_mouth_corners,
)

INNER_BROWS = (107, 55, 336, 285)


def raise_brows(amount_iod: float) -> Displacement:
    """Both brows up by ``amount_iod`` IODs (AU1 + AU2): surprise."""

    def displacement(mesh: np.ndarray) -> np.ndarray:
        _, down, iod = _axes(mesh)
        vectors = np.repeat((-down * amount_iod * iod)[None], len(BROWS), axis=0)
        return _gaussian_pull(mesh, BROWS, vectors, 0.1 * iod)

    return displacement


def lower_mouth_corners(amount_iod: float) -> Displacement:
    """Mouth corners down by ``amount_iod`` IODs and inner brows up by half of it (AU15 + AU1): sadness."""

    def displacement(mesh: np.ndarray) -> np.ndarray:
        _, down, iod = _axes(mesh)
        corners = _gaussian_pull(mesh, MOUTH_CORNERS, np.stack([down, down]) * amount_iod * iod, 0.12 * iod)
        brows = _gaussian_pull(
            mesh, INNER_BROWS, np.repeat((-down * 0.5 * amount_iod * iod)[None], 4, axis=0), 0.06 * iod
        )
        return np.asarray(corners + brows)

    return displacement


EXPRESSIONS: Final[dict[str, Callable[[float], Displacement]]] = {
    "Happiness": raise_mouth_corners,
    "Anger": lower_brows,
    "Surprise": raise_brows,
    "Sadness": lower_mouth_corners,
}

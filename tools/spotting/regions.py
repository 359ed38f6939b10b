"""Face regions for spotting and their per-frame coordinates, in a pose-free face frame.

Each region is a handful of 468-point mesh indices (brows, eyes, nose, mouth, cheeks). A frame's feature is the
(x, y) of those points after ``align_to_frontal``: the 3-D mesh fitted by a similarity transform on its rigid
points (forehead, nose, eye corners) onto a frontal template, in units of the inter-ocular distance (IOD). Head
translation, scale and rotation (as far as the mesh's depth is right) are removed there, so what remains is the
face deforming.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from tools.expression.action_units import GeometricMeasures, align_to_frontal, measure_points

REGIONS: Final[dict[str, tuple[int, ...]]] = {
    "brows": (70, 63, 105, 66, 107, 55, 65, 52, 53, 46, 300, 293, 334, 296, 336, 285, 295, 282, 283, 276),
    "eyes": (
        246, 161, 160, 159, 158, 157, 173, 466, 388, 387, 386, 385, 384, 398,
        7, 163, 144, 145, 153, 154, 155, 249, 390, 373, 374, 380, 381, 382,
    ),
    "nose": (64, 98, 129, 294, 327, 358, 48, 278),
    "mouth": (61, 291, 0, 17, 39, 269, 37, 267, 84, 314, 91, 321, 13, 14, 78, 308, 81, 311, 178, 402),
    "cheeks": (118, 101, 50, 347, 330, 280, 205, 425),
}
REGION_NAMES: Final[tuple[str, ...]] = tuple(REGIONS)
POINTS: Final[np.ndarray] = np.array([i for r in REGIONS.values() for i in r], dtype=np.int64)
# Where each region's points sit in ``POINTS``.
SLICES: Final[dict[str, slice]] = {}
_start = 0
for _name, _indices in REGIONS.items():
    SLICES[_name] = slice(_start, _start + len(_indices))
    _start += len(_indices)

FULL_MESH_POINTS: Final[int] = 478
IRIS_FROM_EYES: Final[tuple[tuple[int, ...], tuple[int, ...]]] = ((33, 133, 159, 145), (263, 362, 386, 374))


def with_iris(mesh468: np.ndarray) -> np.ndarray:
    """A (478, 3) mesh from a (468, 3) one, the 10 iris points set to each eye's centre.

    The spotter runs the mesh without the iris model (4x cheaper in tracking mode); no AU measure reads the iris,
    but the AU code checks for the full 478 points.
    """
    mesh = np.asarray(mesh468, dtype=np.float64)
    if mesh.shape[0] >= FULL_MESH_POINTS:
        return mesh[:FULL_MESH_POINTS]
    left = mesh[list(IRIS_FROM_EYES[0])].mean(axis=0)
    right = mesh[list(IRIS_FROM_EYES[1])].mean(axis=0)
    return np.vstack([mesh, np.repeat(left[None], 5, 0), np.repeat(right[None], 5, 0)])


def region_features(mesh: np.ndarray) -> tuple[np.ndarray, GeometricMeasures]:
    """(len(POINTS), 2) frontalized region coordinates in IOD units, and the AU measures of one pixel mesh.

    ``mesh`` is (468, 3) or (478, 3) in pixels (x, y, and mediapipe's z in the same scale).
    """
    frontal = align_to_frontal(with_iris(mesh))
    return np.asarray(frontal.points[POINTS, :2], dtype=np.float32), measure_points(frontal.points, frontal.iod_px)


_WIDEST = max(len(r) for r in REGIONS.values())
# (regions, widest region) indices into POINTS, padded with len(POINTS): a padded slot reads a distance of -inf.
_PADDED = np.array(
    [[*range(SLICES[n].start, SLICES[n].stop)] + [len(POINTS)] * (_WIDEST - len(REGIONS[n])) for n in REGION_NAMES]
)


def region_displacements(points: np.ndarray, baseline: np.ndarray, top_k: int = 4) -> np.ndarray:
    """(len(REGION_NAMES),) how far each region moved from ``baseline``: the mean of its ``top_k`` largest point
    displacements (IOD). Both arrays are (len(POINTS), 2). The top points, not all, because an action moves a few
    points of a region a lot (mouth corners in a smile) and averaging in the still ones would hide it."""
    distance = np.append(np.linalg.norm(points - baseline, axis=1), -np.inf)[_PADDED]
    top = np.partition(distance, _WIDEST - top_k, axis=1)[:, -top_k:]
    return np.asarray(top.mean(axis=1), dtype=np.float64)

"""Mesh-geometry liveness cues: blinks (eye aspect ratio dips) and non-rigid facial motion.

A printed photo or a screen moved in front of a camera moves as one rigid sheet: after the best similarity
transform between consecutive meshes, little motion is left. A living face blinks and moves its lids, brows and
mouth. Both cues are estimates from the mesh (its own jitter sets the floor), not a trained model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

from tools.attack.types import MotionCues

# (outer, inner, upper lid, lower lid) mesh points of each eye
EYES: Final[tuple[tuple[int, int, int, int], ...]] = ((33, 133, 159, 145), (263, 362, 386, 374))
# Points on the rigid-ish outline and nose and on the mobile parts (lids, brows, lips); iris points excluded.
RIGID_POINTS: Final[tuple[int, ...]] = (10, 152, 234, 454, 1, 4, 168, 6, 197)
MOBILE_POINTS: Final[tuple[int, ...]] = (159, 145, 386, 374, 105, 334, 70, 300, 13, 14, 61, 291, 0, 17)
BLINK_DROP: Final[float] = 0.35  # a blink: EAR falls this fraction below the track's median, then recovers
# Median non-rigid motion per frame above which a face moves like a face. The mesh's own jitter on a photo moved
# rigidly in front of the camera measured 0.0066-0.0071 IOD/frame (evals/liveness_clips.py, 15 fps, 320x240);
# three times that is needed, so talking or expressive faces count and a held photo does not.
NONRIGID_LIVE_IOD: Final[float] = 0.02


def eye_aspect_ratio(mesh: np.ndarray) -> float:
    """Mean over both eyes of lid gap / eye width (about 0.25-0.35 open, under 0.1 closed)."""
    ratios: list[float] = []
    for outer, inner, upper, lower in EYES:
        width = np.linalg.norm(mesh[outer, :2] - mesh[inner, :2])
        gap = np.linalg.norm(mesh[upper, :2] - mesh[lower, :2])
        ratios.append(float(gap / width) if width > 0 else 0.0)
    return float(np.mean(ratios))


def count_blinks(ear: np.ndarray) -> int:
    """Dips of the EAR series below (1 - BLINK_DROP) x median that come back above the median's 85 %."""
    if len(ear) < 3:
        return 0
    median = float(np.median(ear))
    low, high = (1 - BLINK_DROP) * median, 0.85 * median
    blinks, closed = 0, False
    for value in ear:
        if not closed and value < low:
            closed = True
        elif closed and value > high:
            closed = False
            blinks += 1
    return blinks


def _similarity_residual(a: np.ndarray, b: np.ndarray, fit: Sequence[int], probe: Sequence[int]) -> float:
    """RMS distance of ``probe`` points of ``b`` from those of ``a`` after the similarity fitted on ``fit``."""
    src, dst = a[list(fit), :2], b[list(fit), :2]
    src_c, dst_c = src - src.mean(0), dst - dst.mean(0)
    src_complex = src_c[:, 0] + 1j * src_c[:, 1]
    dst_complex = dst_c[:, 0] + 1j * dst_c[:, 1]
    denom = np.vdot(src_complex, src_complex)
    z = np.vdot(src_complex, dst_complex) / denom if denom else 1.0  # rotation+scale as a complex factor
    p = a[list(probe), :2] - src.mean(0)
    moved = z * (p[:, 0] + 1j * p[:, 1]) + dst.mean(0) @ np.array([1, 1j])
    target = b[list(probe), 0] + 1j * b[list(probe), 1]
    return float(np.sqrt(np.mean(np.abs(moved - target) ** 2)))


def motion_cues(meshes: Sequence[np.ndarray]) -> MotionCues:
    """Blinks and non-rigid motion of one track from its meshes (each (478, 3)) in time order."""
    if not meshes:
        return MotionCues(0, 0.0, 0.0, 0)
    ear = np.array([eye_aspect_ratio(m) for m in meshes])
    iods = [float(np.linalg.norm(m[468, :2] - m[473, :2])) if len(m) > 473 else 1.0 for m in meshes]
    residuals = [
        _similarity_residual(a, b, RIGID_POINTS + MOBILE_POINTS, MOBILE_POINTS) / max(iod, 1.0)
        for a, b, iod in zip(meshes[:-1], meshes[1:], iods[1:], strict=True)
    ]
    return MotionCues(
        blinks=count_blinks(ear),
        eye_aspect_ratio_range=float(ear.max() - ear.min()),
        nonrigid_motion=float(np.median(residuals)) if residuals else 0.0,
        frames=len(meshes),
    )

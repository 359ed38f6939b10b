"""The mesh warps moved to ``evals.mesh_warps`` (evaluation media generators use them, and ``evals`` must not
import ``tests``); this name stays importable for code written against it."""

from evals.mesh_warps import (
    BROWS,
    LOWER_LIDS,
    MOUTH_CORNERS,
    SKIN,
    UPPER_LIDS,
    Displacement,
    close_eyes,
    lower_brows,
    raise_mouth_corners,
    smile_amount,
    smile_clip_frames,
    warp_face,
)

__all__ = [
    "BROWS",
    "LOWER_LIDS",
    "MOUTH_CORNERS",
    "SKIN",
    "UPPER_LIDS",
    "Displacement",
    "close_eyes",
    "lower_brows",
    "raise_mouth_corners",
    "smile_amount",
    "smile_clip_frames",
    "warp_face",
]

"""Non-maximum suppression over ``Face`` boxes, for merging detections from several passes."""

from __future__ import annotations

from tools.faces.types import Face


def _overlap(a: Face, b: Face) -> float:
    """IoU, or the share of the smaller box inside the larger one, whichever is higher.

    A tile can cut a face and report a smaller box nested in the full one; plain IoU would keep both.
    """
    ix = max(0.0, min(a.box.x1, b.box.x1) - max(a.box.x0, b.box.x0))
    iy = max(0.0, min(a.box.y1, b.box.y1) - max(a.box.y0, b.box.y0))
    inter = ix * iy
    smaller = min(a.box.area, b.box.area)
    nested = inter / smaller if smaller > 0 else 0.0
    return max(a.box.iou(b.box), nested * 0.8)


def suppress(faces: list[Face], overlap_threshold: float = 0.4) -> list[Face]:
    """Keep the highest-scoring face of every group whose boxes overlap more than ``overlap_threshold``."""
    kept: list[Face] = []
    for face in sorted(faces, key=lambda f: f.score, reverse=True):
        if all(_overlap(face, other) <= overlap_threshold for other in kept):
            kept.append(face)
    return kept

"""Box voting: fusing the faces several detectors found in one image into one list (weighted box fusion).

Each detector's boxes are grouped by overlap (IoU, or one box nested in another: a tile or a padded pass can
report part of a face). A group's box is the score-weighted mean of its members' boxes, its score the noisy-OR of
the best score each detector gave it (weighted by how much that detector is trusted), and its ``votes`` the number
of distinct detectors in it. Keeping a group needs ``min_votes`` detectors, or one detector sure enough on its own
(``single_score``): for analysis a second opinion removes false alarms; for hiding faces, one vote is enough.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from tools.faces.types import Box, Face

GROUP_OVERLAP = 0.35


@dataclass
class FaceGroup:
    """Faces from one or more detectors that cover the same face."""

    faces: list[Face] = field(default_factory=list)

    @property
    def detectors(self) -> set[str]:
        return {face.detector for face in self.faces}

    def box(self, weights: Mapping[str, float]) -> Box:
        """The score-weighted mean box over the best face of each detector."""
        best = self.best_per_detector()
        w = np.array([max(f.score, 1e-3) * weights.get(f.detector, 1.0) for f in best])
        coords = np.array([[f.box.x0, f.box.y0, f.box.x1, f.box.y1] for f in best])
        x0, y0, x1, y1 = (coords * w[:, None]).sum(axis=0) / w.sum()
        return Box(float(x0), float(y0), float(x1), float(y1))

    def score(self, weights: Mapping[str, float]) -> float:
        """Noisy-OR of each detector's best score times its weight (weights in (0, 1])."""
        miss = 1.0
        for face in self.best_per_detector():
            miss *= 1.0 - min(1.0, face.score * weights.get(face.detector, 1.0))
        return 1.0 - miss

    def best_per_detector(self) -> list[Face]:
        best: dict[str, Face] = {}
        for face in self.faces:
            if face.detector not in best or face.score > best[face.detector].score:
                best[face.detector] = face
        return list(best.values())


def overlap(a: Box, b: Box) -> float:
    """IoU, or 0.8 x the share of the smaller box inside the larger one, whichever is higher."""
    ix = max(0.0, min(a.x1, b.x1) - max(a.x0, b.x0))
    iy = max(0.0, min(a.y1, b.y1) - max(a.y0, b.y0))
    smaller = min(a.area, b.area)
    nested = ix * iy / smaller if smaller > 0 else 0.0
    return max(a.iou(b), 0.8 * nested)


def group_faces(faces: Sequence[Face], threshold: float = GROUP_OVERLAP) -> list[FaceGroup]:
    """Greedy grouping, strongest face first: a face joins the group whose strongest member it overlaps most."""
    groups: list[FaceGroup] = []
    for face in sorted(faces, key=lambda f: f.score, reverse=True):
        scores = [overlap(face.box, g.faces[0].box) for g in groups]
        if scores and max(scores) > threshold:
            groups[int(np.argmax(scores))].faces.append(face)
        else:
            groups.append(FaceGroup([face]))
    return groups


def family(detector: str) -> str:
    """The model family of a detector name: a padded or mirrored pass is the same model as the plain one."""
    return detector.removesuffix("-padded").removesuffix("-mirrored")


@dataclass(frozen=True)
class FusedFace:
    """A fused face and the detectors that voted for it. ``confirmed``: two model families agree."""

    face: Face
    detectors: tuple[str, ...]

    @property
    def confirmed(self) -> bool:
        return len({family(name) for name in self.detectors}) >= 2


def fuse_groups(
    faces: Sequence[Face],
    weights: Mapping[str, float] | None = None,
    *,
    min_votes: int = 1,
    single_score: float = 1.1,
    name: str = "ensemble",
) -> list[FusedFace]:
    """One face per group of overlapping detections, kept by the rule in the module docstring, left to right.

    The fused face keeps the five landmarks of the member that has them (MTCNN) and is named ``name``.
    """
    weights = weights or {}
    out = []
    for group in group_faces(faces):
        score = group.score(weights)
        best = group.best_per_detector()
        if len(best) < min_votes and max(f.score for f in best) < single_score:
            continue
        fused = Face(box=group.box(weights), score=score, detector=name)
        with_points = [f for f in best if f.landmarks5 is not None]
        if with_points:
            fused.landmarks5 = with_points[0].landmarks5
        out.append(FusedFace(fused, tuple(sorted(f.detector for f in best))))
    return sorted(out, key=lambda f: f.face.box.x0)


def fuse_faces(
    faces: Sequence[Face],
    weights: Mapping[str, float] | None = None,
    *,
    min_votes: int = 1,
    single_score: float = 1.1,
    name: str = "ensemble",
) -> list[Face]:
    """The faces of ``fuse_groups``, without who voted for them."""
    groups = fuse_groups(faces, weights, min_votes=min_votes, single_score=single_score, name=name)
    return [group.face for group in groups]

"""The ensemble detector: several detector families run on the same image, their boxes fused by voting.

Members were chosen by measured recall and cost on the labelled real-photo benchmark (``evals/bench/detection.py``;
the table is in ``evals/reference/detection/README.md``): BlazeFace (tiled) is cheap and finds most faces;
BlazeFace on a reflect-padded frame finds the faces cut by the frame's edge (4 of 4, plain BlazeFace 1 of 4);
BlazeFace on the mirrored frame finds turned faces (a profile one way is seen the other way); MTCNN finds small,
dark and masked faces BlazeFace misses, at about 18 times BlazeFace's cost. Their union at privacy thresholds found
all 45 labelled faces. dlib's MMOD CNN (about 15 times MTCNN's cost) and OpenCV's cascades (many false alarms)
added no face to that union; they can be added by name (``MIEN_ENSEMBLE_DETECTORS``), and de-identification uses
them as independent checkers instead (``tools.deidentify.hiding``).

Video: ``detect(image, full_scan=False)`` runs only the ``every_frame`` members (the cheap ones); the others run
on full scans, as the face pipeline and de-identification schedule them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from tools.faces.fusion import FusedFace, fuse_groups
from tools.faces.protocols import Detector
from tools.faces.types import Face


class EnsembleDetector:
    """Runs the members on the image and fuses their faces (``tools.faces.fusion``).

    ``min_votes`` / ``single_score``: a fused face needs that many detectors, or one scoring ``single_score``.
    ``every_frame``: names of the members cheap enough to run when ``full_scan`` is False.
    """

    name = "ensemble"

    def __init__(
        self,
        members: Sequence[Detector],
        weights: Mapping[str, float] | None = None,
        *,
        min_votes: int = 1,
        single_score: float = 1.1,
        every_frame: Sequence[str] = ("mediapipe", "mediapipe-padded"),
    ) -> None:
        self.members = list(members)
        self.weights = dict(weights or {})
        self.min_votes = min_votes
        self.single_score = single_score
        self.every_frame = tuple(every_frame)

    @property
    def member_names(self) -> tuple[str, ...]:
        return tuple(member.name for member in self.members)

    def detect_all(self, image_rgb: np.ndarray, full_scan: bool = True) -> list[Face]:
        """Every member's faces, unfused (each ``Face.detector`` names its member)."""
        used = [m for m in self.members if full_scan or m.name in self.every_frame]
        return [face for member in used for face in member.detect(image_rgb)]

    def detect_fused(self, image_rgb: np.ndarray, full_scan: bool = True) -> list[FusedFace]:
        """Fused faces with the members that voted for each, left to right."""
        return fuse_groups(
            self.detect_all(image_rgb, full_scan),
            self.weights,
            min_votes=self.min_votes,
            single_score=self.single_score,
            name=self.name,
        )

    def detect(self, image_rgb: np.ndarray, full_scan: bool = True) -> list[Face]:
        """Fused faces in an RGB uint8 image (H, W, 3), sorted left to right."""
        return [group.face for group in self.detect_fused(image_rgb, full_scan)]

"""Finding the faces to hide in one frame, hiding them, and searching the result again for anything face-like left.

Two detector passes, at two thresholds. The first finds faces at ``deidentify_detection_threshold`` (lower than
the analysis threshold: for privacy a missed face costs more than a blurred background). The second runs on the
already hidden image at ``deidentify_residual_threshold``: a blurred head keeps the outline of a head (hair above,
shoulders below) and BlazeFace scores such an outline near 0.5 whatever is inside it; hiding the region it reports
once more, over an area that grows each round (``GROW_PER_ROUND``), removes the outline. That search also catches
faces the first pass missed, and latent false positives that the real face had suppressed (NMS) before it was
hidden. For video the encoded file is searched as well (``tools.deidentify.verify``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import cast

import numpy as np

from tools.deidentify.faces import AnonymizeMode, FaceMaskStyle, anonymize_faces
from tools.faces.protocols import Detector
from tools.faces.types import Box
from tools.settings import Settings, get_settings

RESIDUAL_ROUNDS = 8
GROW_PER_ROUND = 0.25


def grown_for_round(boxes: list[Box], round_index: int) -> list[Box]:
    """Residual boxes of search round ``round_index`` (0-based), grown by ``GROW_PER_ROUND`` per earlier round."""
    factor = 1.0 + GROW_PER_ROUND * round_index
    return [box.expanded(factor) for box in boxes]


@lru_cache(maxsize=4)
def detector_at(name: str, min_score: float) -> Detector:
    """The detector backend ``name`` reporting faces scored ``min_score`` or more, built once per process.

    The registry's shared detector uses the analysis threshold; de-identification needs its own thresholds, so
    the mediapipe backend is built here with them. Other backends have no score threshold to set.
    """
    if name == "mediapipe":
        from tools.faces.detect_mediapipe import MediapipeDetector

        return MediapipeDetector(min_score=min_score)
    from tools.faces import get_detector

    return get_detector(name)


@dataclass(frozen=True)
class HiddenFrame:
    """A frame with its faces hidden: ``image`` RGB uint8 (H, W, 3), and the face-like regions the residual search
    found and hid after the first hiding, as hidden (already grown; empty when the first hiding was enough)."""

    image: np.ndarray
    residual_boxes: list[Box]

    @property
    def residual_faces(self) -> int:
        return len(self.residual_boxes)


class FaceHider:
    """Finds faces (``find``) and hides given boxes plus whatever the residual search still finds (``hide``)."""

    def __init__(
        self,
        style: FaceMaskStyle,
        finder: Detector,
        residual: Detector | None,
        rounds: int = RESIDUAL_ROUNDS,
    ) -> None:
        self.style = style
        # What the re-search finds is blurred over a box in every mode: an oval, solid or blocky patch is an
        # outline a detector can take for a head again, a soft-edged blurred rectangle is not.
        self.residual_style = replace(style, mode="blur", shape="box", margin=1.0)
        self.finder = finder
        self.residual = residual
        self.rounds = rounds

    @classmethod
    def from_settings(cls, mode: str, *, verify: bool = True, settings: Settings | None = None) -> FaceHider:
        """The hider configured by ``MIEN_DEIDENTIFY_*`` settings and the ``MIEN_DETECTOR`` backend."""
        settings = settings or get_settings()
        style = FaceMaskStyle(mode=cast(AnonymizeMode, mode), margin=settings.deidentify_margin)
        finder = detector_at(settings.detector, settings.deidentify_detection_threshold)
        residual = detector_at(settings.detector, settings.deidentify_residual_threshold) if verify else None
        return cls(style, finder, residual)

    def find(self, image_rgb: np.ndarray) -> list[Box]:
        """Boxes of the faces in ``image_rgb`` (RGB uint8, (H, W, 3))."""
        return [face.box for face in self.finder.detect(image_rgb)]

    def hide_residual(self, image_rgb: np.ndarray, boxes: list[Box]) -> np.ndarray:
        """``image_rgb`` with ``boxes`` (found by ``find_residual``, already grown) blurred over."""
        return anonymize_faces(image_rgb, boxes, self.residual_style) if boxes else image_rgb

    def find_residual(self, image_rgb: np.ndarray) -> list[Box]:
        """Boxes of whatever still looks like a face in an already hidden image (none when not verifying).

        Nothing is left out, however large: on smooth or already blurred areas BlazeFace also reports "faces"
        much bigger than any real one, and hiding those blurs large parts of the frame (see the benchmark).
        """
        return [] if self.residual is None else [face.box for face in self.residual.detect(image_rgb)]

    def hide(self, image_rgb: np.ndarray, boxes: list[Box], *, search_again: bool = True) -> HiddenFrame:
        """``image_rgb`` with ``boxes`` hidden, then (``search_again``) searched again and hidden again, up to
        ``rounds`` times. For video the encoded file is also checked (``tools.deidentify.verify``)."""
        image = anonymize_faces(image_rgb, boxes, self.style) if boxes else np.array(image_rgb, copy=True)
        hidden_again: list[Box] = []
        if self.residual is None or not search_again:
            return HiddenFrame(image, hidden_again)
        for round_index in range(self.rounds):
            left = self.find_residual(image)
            if not left:
                break
            grown = grown_for_round(left, round_index)
            hidden_again += grown
            image = self.hide_residual(image, grown)
        return HiddenFrame(image, hidden_again)

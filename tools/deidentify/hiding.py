"""Finding the faces to hide in one frame, hiding them, and checking the result with detectors that did not choose.

Finding: the ensemble detector (``tools.faces.detect_ensemble``: BlazeFace tiled, BlazeFace on a reflect-padded
frame for faces cut by the edge, MTCNN for small, masked and turned faces) at privacy thresholds, taking the union
of its votes: a missed face costs more than a blurred background. A region that two model families agree on is
hidden as a face (an ellipse 1.5 times the box); a region only one family saw cannot be confirmed, so it is hidden
generously: the whole head with its hair (``head_region``), never a tight face box.

Checking: the hidden image is searched by the ``checkers``, detector families that did not choose the regions
(dlib HOG, dlib's MMOD CNN, OpenCV's cascades by default); a face only they find is hidden (head and hair) and
counted. Then the residual search of the original design runs at ``deidentify_residual_threshold``: a blurred
head keeps the outline of a head and BlazeFace scores such an outline near 0.5; hiding the region it reports once
more, over an area that grows each round (``GROW_PER_ROUND``), removes the outline. For video the encoded file is
searched as well (``tools.deidentify.verify``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import cast

import numpy as np

from tools.deidentify.faces import AnonymizeMode, FaceMaskStyle, anonymize_faces
from tools.faces.detect_ensemble import EnsembleDetector
from tools.faces.protocols import Detector
from tools.faces.types import Box
from tools.settings import Settings, get_settings

RESIDUAL_ROUNDS = 8
GROW_PER_ROUND = 0.25
# Head and hair around a face box, as the box handed to ``anonymize_faces`` (whose ellipse is ``margin`` = 1.5
# times it): 1.2 x 1.3 the face, raised by a fifth of its height, gives an ellipse 1.8 wide and 1.95 tall that
# reaches from the hair above the forehead to below the chin and over both ears.
HEAD_WIDTH = 1.2
HEAD_HEIGHT = 1.3
HEAD_RAISE = 0.2


def grown_for_round(boxes: list[Box], round_index: int) -> list[Box]:
    """Residual boxes of search round ``round_index`` (0-based), grown by ``GROW_PER_ROUND`` per earlier round."""
    factor = 1.0 + GROW_PER_ROUND * round_index
    return [box.expanded(factor) for box in boxes]


def head_region(box: Box) -> Box:
    """The region to hide for an unconfirmed face ``box``: head and hair (see ``HEAD_*``), in the same pixels."""
    cx, cy = box.center
    cy -= HEAD_RAISE * box.height
    hw, hh = box.width * HEAD_WIDTH / 2.0, box.height * HEAD_HEIGHT / 2.0
    return Box(cx - hw, cy - hh, cx + hw, cy + hh)


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


@lru_cache(maxsize=4)
def privacy_finder(name: str, members: str, min_score: float) -> Detector:
    """The detector that chooses regions to hide: the ensemble of ``members`` at privacy thresholds (union of
    votes) when ``name`` is ``ensemble``, else the backend ``name`` as ``detector_at`` builds it at ``min_score``."""
    if name == "ensemble":
        from tools.faces.ensemble_config import build_ensemble

        return build_ensemble(members, privacy=True)
    return detector_at(name, min_score)


@lru_cache(maxsize=4)
def checkers_named(names: str) -> tuple[Detector, ...]:
    """The check detectors ``names`` (comma-separated member names), built once per process."""
    from tools.faces.ensemble_config import build_member, parse_names

    return tuple(build_member(name, privacy=True) for name in parse_names(names)) if names.strip() else ()


@dataclass(frozen=True)
class HiddenFrame:
    """A frame with its faces hidden: ``image`` RGB uint8 (H, W, 3), and the regions the checks found and hid
    after the first hiding, as hidden (already grown; empty when the first hiding was enough). ``checked_faces``
    of them came from the independent checkers."""

    image: np.ndarray
    residual_boxes: list[Box]
    checked_faces: int = 0

    @property
    def residual_faces(self) -> int:
        return len(self.residual_boxes)


class FaceHider:
    """Finds faces (``find``), hides them, and checks the result (``hide``): see the module docstring."""

    def __init__(
        self,
        style: FaceMaskStyle,
        finder: Detector,
        residual: Detector | None,
        rounds: int = RESIDUAL_ROUNDS,
        checkers: Sequence[Detector] = (),
        video_checkers: Sequence[Detector] | None = None,
    ) -> None:
        self.style = style
        # What the re-search finds is blurred over a box in every mode: an oval, solid or blocky patch is an
        # outline a detector can take for a head again, a soft-edged blurred rectangle is not.
        self.residual_style = replace(style, mode="blur", shape="box", margin=1.0)
        self.finder = finder
        self.residual = residual
        self.rounds = rounds
        finder_names = set(getattr(finder, "member_names", (finder.name,)))
        # A checker must not be one of the detectors that chose the regions.
        self.checkers = [c for c in checkers if c.name not in finder_names]
        # Videos are checked on one frame a second (tools.deidentify.verify) by cheaper checkers (no MMOD CNN).
        chosen = self.checkers if video_checkers is None else video_checkers
        self.video_checkers = [c for c in chosen if c.name not in finder_names]

    @classmethod
    def from_settings(cls, mode: str, *, verify: bool = True, settings: Settings | None = None) -> FaceHider:
        """The hider configured by ``MIEN_DEIDENTIFY_*`` settings (finder, checkers, thresholds)."""
        settings = settings or get_settings()
        style = FaceMaskStyle(mode=cast(AnonymizeMode, mode), margin=settings.deidentify_margin)
        finder = privacy_finder(
            settings.deidentify_detector, settings.ensemble_detectors, settings.deidentify_detection_threshold
        )
        residual = detector_at("mediapipe", settings.deidentify_residual_threshold) if verify else None
        checkers = checkers_named(settings.deidentify_check_detectors) if verify else ()
        video_checkers = checkers_named(settings.deidentify_video_check_detectors) if verify else ()
        return cls(style, finder, residual, checkers=checkers, video_checkers=video_checkers)

    @property
    def scans_in_part(self) -> bool:
        """Whether frames between full scans see only the finder's cheap members (an ensemble finder)."""
        return isinstance(self.finder, EnsembleDetector)

    def find(self, image_rgb: np.ndarray, full_scan: bool = True) -> list[Box]:
        """Regions to hide in ``image_rgb`` (RGB uint8, (H, W, 3)): face boxes where two model families agree,
        head regions where only one saw a face. ``full_scan`` False runs only the ensemble's cheap members."""
        if isinstance(self.finder, EnsembleDetector):
            groups = self.finder.detect_fused(image_rgb, full_scan)
            return [g.face.box if g.confirmed else head_region(g.face.box) for g in groups]
        return [face.box for face in self.finder.detect(image_rgb)]

    def check(self, image_rgb: np.ndarray, *, video: bool = False) -> list[Box]:
        """Head regions of the faces the independent checkers (``video``: the video checkers) find in an already
        hidden image."""
        checkers = self.video_checkers if video else self.checkers
        return [head_region(face.box) for checker in checkers for face in checker.detect(image_rgb)]

    def hide_residual(self, image_rgb: np.ndarray, boxes: list[Box]) -> np.ndarray:
        """``image_rgb`` with ``boxes`` (found by ``find_residual``, already grown) blurred over."""
        return anonymize_faces(image_rgb, boxes, self.residual_style) if boxes else image_rgb

    def find_residual(self, image_rgb: np.ndarray) -> list[Box]:
        """Boxes of whatever still looks like a face in an already hidden image (none when not verifying).

        Nothing is left out, however large: on smooth or already blurred areas BlazeFace also reports "faces"
        much bigger than any real one, and hiding those blurs large parts of the frame (see the benchmark);
        the finder's privacy thresholds are set to keep the false alarms that cause them few.
        """
        return [] if self.residual is None else [face.box for face in self.residual.detect(image_rgb)]

    def hide(self, image_rgb: np.ndarray, boxes: list[Box], *, search_again: bool = True) -> HiddenFrame:
        """``image_rgb`` with ``boxes`` hidden, then (``search_again``) checked by the independent checkers and
        searched again, hiding what is found, up to ``rounds`` times."""
        image = anonymize_faces(image_rgb, boxes, self.style) if boxes else np.array(image_rgb, copy=True)
        hidden_again: list[Box] = []
        if not search_again:
            return HiddenFrame(image, hidden_again)
        checked = self.check(image) if self.checkers else []
        if checked:
            image = anonymize_faces(image, checked, self.style)
            hidden_again += checked
        if self.residual is None:
            return HiddenFrame(image, hidden_again, len(checked))
        for round_index in range(self.rounds):
            left = self.find_residual(image)
            if not left:
                break
            grown = grown_for_round(left, round_index)
            hidden_again += grown
            image = self.hide_residual(image, grown)
        return HiddenFrame(image, hidden_again, len(checked))

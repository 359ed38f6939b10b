"""De-identification that holds: every labelled face of the real-photo set hidden, checked by detectors that did
not choose the regions, unconfirmed regions hidden as head and hair, and faces found only on re-check hidden.

Labels: ``evals/reference/detection/labels.json`` (hand-annotated). "Hidden" means at least 90% of the labelled
box lies under the hidden region (``tools.deidentify.faces.hidden_mask``). The full set, with dlib's MMOD and
OpenCV's cascades also judging, is ``python -m evals.bench.deidentify_photos``.
"""

from __future__ import annotations

import numpy as np
import pytest

from evals.detection_scoring import matches
from evals.detection_set import photo
from tools.deidentify import FaceMaskStyle, hide_faces
from tools.deidentify.faces import hidden_mask
from tools.deidentify.hiding import FaceHider, head_region
from tools.faces.detect_dlib import DlibHogDetector
from tools.faces.detect_ensemble import EnsembleDetector
from tools.faces.detect_mediapipe import MediapipeDetector
from tools.faces.detect_mtcnn import MtcnnDetector
from tools.faces.types import Box, Face
from tools.settings import Settings


class Fixed:
    """A detector that reports fixed boxes (a stand-in member with a name)."""

    def __init__(self, name: str, boxes: list[Box]) -> None:
        self.name = name
        self.boxes = boxes

    def detect(self, image_rgb: np.ndarray) -> list[Face]:
        return [Face(box=b, score=0.9, detector=self.name) for b in self.boxes]


def test_head_region_reaches_over_the_hair_and_below_the_chin() -> None:
    # A 100 x 100 face box at (100, 100): the head box is 120 x 130, raised by 20 px.
    assert head_region(Box(100, 100, 200, 200)) == Box(90, 65, 210, 195)


def test_a_region_two_families_agree_on_is_hidden_as_a_face_one_family_as_a_head() -> None:
    agreed, lonely = Box(10, 10, 60, 60), Box(200, 10, 250, 60)
    finder = EnsembleDetector(
        [Fixed("mediapipe", [agreed, lonely]), Fixed("mediapipe-padded", [lonely]), Fixed("mtcnn", [agreed])]
    )
    hider = FaceHider(FaceMaskStyle(), finder, residual=None)
    regions = hider.find(np.zeros((300, 300, 3), np.uint8))
    assert regions == [agreed, head_region(lonely)]


def test_a_checker_is_never_one_of_the_detectors_that_chose() -> None:
    finder = EnsembleDetector([Fixed("mediapipe", []), Fixed("mtcnn", [])])
    hider = FaceHider(FaceMaskStyle(), finder, None, checkers=[Fixed("mtcnn", []), Fixed("dlib-hog", [])])
    assert [c.name for c in hider.checkers] == ["dlib-hog"]


def test_a_face_only_the_checker_finds_is_hidden_and_counted(astronaut: np.ndarray) -> None:
    blind = Fixed("blind", [])
    hider = FaceHider(FaceMaskStyle(), blind, residual=None, checkers=[MtcnnDetector(min_score=0.9)])
    result = hide_faces(astronaut, hider=hider)
    assert result.boxes == [] and result.checked_faces == 1 and result.residual_faces == 1
    label = Box(178, 72, 272, 178)
    mask = hidden_mask(512, 512, list(result.residual_boxes), hider.style)
    assert mask[72:178, 178:272].mean() == 1.0
    assert not any(matches(f.box, label) for f in MtcnnDetector(min_score=0.6).detect(result.image))


@pytest.fixture(scope="module")
def judges() -> dict[str, object]:
    return {"blazeface": MediapipeDetector(min_score=0.3), "mtcnn": MtcnnDetector(min_score=0.6)}


@pytest.mark.slow
@pytest.mark.parametrize("photo_id", ["t1_cut", "multi_face_cut", "t1_masked", "soldier", "einstein"])
def test_every_labelled_face_is_hidden_and_none_is_found_again(photo_id: str, judges: dict[str, object]) -> None:
    item = photo(photo_id)
    image = item.image()
    settings = Settings()
    hider = FaceHider.from_settings("blur", settings=settings)
    result = hide_faces(image, hider=hider)
    height, width = image.shape[:2]
    mask = hidden_mask(height, width, result.boxes, hider.style) | hidden_mask(
        height, width, list(result.residual_boxes), hider.residual_style
    )
    for face in item.faces:
        b = face.box
        assert mask[int(b.y0) : int(b.y1), int(b.x0) : int(b.x1)].mean() >= 0.9, (photo_id, face)
    for name, judge in judges.items():
        left = judge.detect(result.image)  # type: ignore[attr-defined]
        assert not [f for f in item.faces if any(matches(d.box, f.box) for d in left)], (photo_id, name)
    hog = DlibHogDetector().detect(result.image)
    assert not [f for f in item.faces if any(matches(d.box, f.box) for d in hog)]


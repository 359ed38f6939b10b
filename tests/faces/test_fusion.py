"""Box voting (``tools.faces.fusion``) and the padded pass (``tools.faces.padded``), on boxes whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from tools.faces.detect_ensemble import EnsembleDetector
from tools.faces.fusion import fuse_faces, fuse_groups, overlap
from tools.faces.padded import PaddedDetector
from tools.faces.types import Box, Face


def face(x0: float, y0: float, x1: float, y1: float, score: float, detector: str) -> Face:
    return Face(box=Box(x0, y0, x1, y1), score=score, detector=detector)


def test_two_detectors_on_one_face_fuse_into_one_box_with_the_score_weighted_mean() -> None:
    a = face(0, 0, 100, 100, 0.75, "mediapipe")
    b = face(10, 10, 110, 110, 0.25, "mtcnn")
    fused = fuse_groups([a, b])
    assert len(fused) == 1
    # weights 0.75 and 0.25: x0 = 0.75 * 0 + 0.25 * 10 = 2.5, x1 = 102.5
    assert fused[0].face.box == Box(2.5, 2.5, 102.5, 102.5)
    # noisy-OR: 1 - (1 - 0.75) * (1 - 0.25) = 0.8125
    assert fused[0].face.score == pytest.approx(0.8125)
    assert fused[0].detectors == ("mediapipe", "mtcnn")
    assert fused[0].confirmed


def test_a_padded_pass_is_the_same_family_so_it_does_not_confirm() -> None:
    fused = fuse_groups([face(0, 0, 50, 50, 0.9, "mediapipe"), face(2, 2, 52, 52, 0.8, "mediapipe-padded")])
    assert len(fused) == 1 and not fused[0].confirmed


def test_separate_faces_stay_separate_and_come_left_to_right() -> None:
    faces = [face(300, 0, 400, 100, 0.9, "mtcnn"), face(0, 0, 100, 100, 0.6, "mediapipe")]
    fused = fuse_faces(faces)
    assert [f.box.x0 for f in fused] == [0, 300]
    assert all(f.detector == "ensemble" for f in fused)


def test_two_votes_or_one_sure_detector() -> None:
    lonely_weak = face(0, 0, 100, 100, 0.9, "mtcnn")
    lonely_sure = face(300, 0, 400, 100, 0.99, "mtcnn")
    pair = [face(600, 0, 700, 100, 0.6, "mediapipe"), face(605, 5, 705, 105, 0.7, "opencv-haar")]
    kept = fuse_faces([lonely_weak, lonely_sure, *pair], min_votes=2, single_score=0.95)
    assert [f.box.x0 for f in kept] == [300, pytest.approx(602.692, abs=1e-3)]


def test_a_box_nested_in_another_counts_as_the_same_face() -> None:
    whole, part = Box(0, 0, 100, 100), Box(0, 0, 40, 100)  # a tile or the frame's edge cut the face
    assert whole.iou(part) == pytest.approx(0.4)
    assert overlap(whole, part) == pytest.approx(0.8)
    assert len(fuse_faces([face(0, 0, 100, 100, 0.9, "a"), face(0, 0, 40, 100, 0.8, "b")])) == 1


def test_landmarks_come_from_the_member_that_has_them() -> None:
    with_points = face(0, 0, 100, 100, 0.5, "mtcnn")
    with_points.landmarks5 = np.arange(10, dtype=np.float32).reshape(5, 2)
    fused = fuse_faces([face(0, 0, 100, 100, 0.9, "mediapipe"), with_points])
    assert fused[0].landmarks5 is not None and fused[0].landmarks5[4, 1] == 9


class Recorder:
    """A detector that returns fixed boxes (in the coordinates of the image it is given) and records shapes."""

    def __init__(self, name: str, boxes: list[Box]) -> None:
        self.name = name
        self.boxes = boxes
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, image_rgb: np.ndarray) -> list[Face]:
        self.shapes.append(image_rgb.shape)
        return [Face(box=b, score=0.9, detector=self.name) for b in self.boxes]


def test_padded_pass_maps_boxes_back_and_drops_faces_in_the_padding() -> None:
    image = np.zeros((100, 200, 3), np.uint8)
    # pad = 25 (a quarter of the shorter side): a face at padded (5, 40)-(45, 80) is at (-20, 15)-(20, 55),
    # half outside the left edge; a "face" at padded (0, 0)-(20, 20) lies wholly in the padding.
    inner = Recorder("stub", [Box(5, 40, 45, 80), Box(0, 0, 20, 20)])
    faces = PaddedDetector(inner, pad_fraction=0.25).detect(image)
    assert inner.shapes == [(150, 250, 3)]
    assert [f.box for f in faces] == [Box(0, 15, 20, 55)]
    assert faces[0].detector == "stub-padded"


def test_the_ensemble_runs_only_its_cheap_members_between_full_scans() -> None:
    cheap = Recorder("mediapipe", [Box(0, 0, 10, 10)])
    costly = Recorder("mtcnn", [Box(50, 50, 60, 60)])
    ensemble = EnsembleDetector([cheap, costly], every_frame=("mediapipe",))
    image = np.zeros((80, 80, 3), np.uint8)
    assert len(ensemble.detect(image, full_scan=False)) == 1
    assert len(ensemble.detect(image, full_scan=True)) == 2
    assert (len(cheap.shapes), len(costly.shapes)) == (2, 1)

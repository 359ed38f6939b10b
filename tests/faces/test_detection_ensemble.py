"""The detectors added for faces a person sees (MTCNN, padded and mirrored BlazeFace, the ensemble), on labelled
real photos of ``evals.detection_set``: each finds the hard face it was added for, where plain BlazeFace does not.

The labels are hand-annotated boxes (``evals/reference/detection/labels.json``); a detection stands for a label as
``evals.detection_scoring.matches`` says (IoU >= 0.3, or each box holding the other's centre).
"""

from __future__ import annotations

import numpy as np
import pytest

from evals.detection_scoring import matches
from evals.detection_set import FLAGS, labelled_photos, photo
from tools.errors import ConfigError
from tools.faces import get_detector
from tools.faces.detect_ensemble import EnsembleDetector
from tools.faces.detect_mediapipe import MediapipeDetector
from tools.faces.detect_mtcnn import MtcnnDetector
from tools.faces.ensemble_config import build_ensemble, parse_names
from tools.faces.mirrored import MirroredDetector
from tools.faces.padded import PaddedDetector
from tools.faces.types import Box, Face


def found(faces: list[Face], label: Box) -> bool:
    return any(matches(f.box, label) for f in faces)


@pytest.fixture(scope="module")
def blazeface() -> MediapipeDetector:
    return MediapipeDetector(min_score=0.5)


@pytest.fixture(scope="module")
def mtcnn() -> MtcnnDetector:
    return MtcnnDetector(min_score=0.9)


def test_the_labels_cover_the_set_and_lie_inside_their_photos() -> None:
    photos = labelled_photos()
    assert len(photos) == 14
    assert sum(len(p.faces) for p in photos) == 45
    for item in photos:
        height, width = item.image().shape[:2]
        for face in item.faces:
            b = face.box
            assert 0 <= b.x0 < b.x1 <= width and 0 <= b.y0 < b.y1 <= height, item.photo_id
            assert set(face.flags) <= set(FLAGS)
    cut = [f for p in photos for f in p.faces if "cut" in f.flags]
    assert len(cut) == 4 and all(f.box.x0 == 0 or f.box.y0 == 0 or "cut" in f.flags for f in cut)


def test_blazeface_on_a_padded_frame_finds_a_face_cut_by_the_left_edge(blazeface: MediapipeDetector) -> None:
    item = photo("t1_cut")
    cut = item.faces[0]
    assert "cut" in cut.flags and cut.box.x0 == 0
    image = item.image()
    assert not found(blazeface.detect(image), cut.box)
    assert found(PaddedDetector(blazeface).detect(image), cut.box)


def test_blazeface_on_the_mirrored_frame_finds_a_profile_it_misses(blazeface: MediapipeDetector) -> None:
    item = photo("soldier")
    profile = item.faces[0]
    image = item.image()
    assert not found(blazeface.detect(image), profile.box)
    assert found(MirroredDetector(MediapipeDetector(min_score=0.35)).detect(image), profile.box)


def test_mtcnn_finds_the_small_dark_face_and_gives_landmarks_inside_it(
    blazeface: MediapipeDetector, mtcnn: MtcnnDetector
) -> None:
    item = photo("einstein")
    seated = item.faces[1]
    assert {"small", "dark"} <= set(seated.flags)
    image = item.image()
    assert not found(blazeface.detect(image), seated.box)
    faces = [f for f in mtcnn.detect(image) if matches(f.box, seated.box)]
    assert len(faces) == 1 and faces[0].landmarks5 is not None
    points = faces[0].landmarks5
    b = faces[0].box
    assert np.all((points[:, 0] >= b.x0) & (points[:, 0] <= b.x1) & (points[:, 1] >= b.y0) & (points[:, 1] <= b.y1))
    assert points[0, 0] < points[1, 0]  # the subject's right eye is on the image's left


def test_mtcnn_finds_nothing_in_a_blank_image(mtcnn: MtcnnDetector) -> None:
    assert mtcnn.detect(np.full((240, 320, 3), 128, np.uint8)) == []


@pytest.mark.slow
@pytest.mark.parametrize("photo_id", ["t1_cut", "multi_face_cut", "t1_masked"])
def test_the_privacy_ensemble_finds_every_face_of_the_hard_photos(photo_id: str) -> None:
    item = photo(photo_id)
    faces = build_ensemble("mediapipe,mediapipe-padded,mediapipe-mirrored,mtcnn", privacy=True).detect(item.image())
    assert [found(faces, f.box) for f in item.faces] == [True] * len(item.faces)


def test_the_registry_builds_the_ensemble_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    ensemble = get_detector("ensemble")
    assert isinstance(ensemble, EnsembleDetector)
    assert ensemble.member_names == ("mediapipe", "mediapipe-padded", "mediapipe-mirrored", "mtcnn")
    assert ensemble.min_votes == 2  # analysis: two votes or one sure detector


def test_an_unknown_member_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="retinaface"):
        parse_names("mediapipe,retinaface")
    with pytest.raises(ConfigError, match="at least one"):
        parse_names(" , ")

"""Detection, mesh, 5/68 landmarks and head pose on real photos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from evals.samples import lfw_subset
from tools.faces import FaceOptions, analyze_image, get_detector

GEOMETRY_ONLY = FaceOptions(embeddings=False)


def test_all_six_people_of_the_group_photo_are_found(group_photo: np.ndarray) -> None:
    faces = analyze_image(group_photo, GEOMETRY_ONLY)
    assert len(faces) == 6
    centers_x = [f.box.center[0] for f in faces]
    assert centers_x == sorted(centers_x)
    for face in faces:
        assert 80 <= face.box.width <= 160, face.box
        assert face.mesh is not None and face.mesh.shape == (478, 3)
        assert face.landmarks5 is not None and face.landmarks5.shape == (5, 2)
        x, y = face.landmarks5[2]  # nose tip inside its own box
        assert face.box.x0 < x < face.box.x1 and face.box.y0 < y < face.box.y1


def test_dlib_hog_also_finds_the_six(group_photo: np.ndarray) -> None:
    assert len(get_detector("dlib-hog").detect(group_photo)) == 6


def test_astronaut_face_box_and_frontal_pose(astronaut: np.ndarray) -> None:
    (face,) = analyze_image(astronaut, GEOMETRY_ONLY)
    cx, cy = face.box.center
    assert 200 < cx < 260 and 100 < cy < 150
    assert face.pose is not None
    assert abs(face.pose.yaw_deg) < 10 and abs(face.pose.pitch_deg) < 10 and abs(face.pose.roll_deg) < 10


def test_lfw_faces_are_found_and_non_faces_are_not() -> None:
    images, is_face = lfw_subset()
    detector = get_detector("mediapipe")
    found = np.array([bool(detector.detect(np.dstack([(im * 255).astype(np.uint8)] * 3))) for im in images])
    detection_rate = found[is_face].mean()
    false_positive_rate = found[~is_face].mean()
    assert detection_rate >= 0.95, detection_rate
    assert false_positive_rate <= 0.05, false_positive_rate


def test_mirroring_flips_yaw_and_roll(astronaut: np.ndarray) -> None:
    (face,) = analyze_image(astronaut, GEOMETRY_ONLY)
    (mirrored,) = analyze_image(np.ascontiguousarray(astronaut[:, ::-1]), GEOMETRY_ONLY)
    assert face.pose is not None and mirrored.pose is not None
    assert face.mesh is not None and mirrored.mesh is not None
    assert mirrored.mesh[1, 0] == pytest.approx(511 - face.mesh[1, 0], abs=3)  # the nose tip mirrors
    assert mirrored.pose.roll_deg == pytest.approx(-face.pose.roll_deg, abs=3)


@pytest.mark.parametrize("angle_deg", [-20, 15])
def test_rotating_the_image_changes_roll_by_that_angle(astronaut: np.ndarray, angle_deg: float) -> None:
    (upright,) = analyze_image(astronaut, GEOMETRY_ONLY)
    # OpenCV's positive angle turns the image counter-clockwise, which tilts the head counter-clockwise too.
    rotated = cv2.warpAffine(astronaut, cv2.getRotationMatrix2D(upright.box.center, angle_deg, 1.0), (512, 512))
    (tilted,) = analyze_image(rotated, GEOMETRY_ONLY)
    assert upright.pose is not None and tilted.pose is not None
    assert tilted.pose.roll_deg - upright.pose.roll_deg == pytest.approx(-angle_deg, abs=4)


def test_turned_head_has_yaw_with_the_right_sign(tom_hanks: np.ndarray) -> None:
    (face,) = analyze_image(tom_hanks, GEOMETRY_ONLY)
    (mirrored,) = analyze_image(np.ascontiguousarray(tom_hanks[:, ::-1]), GEOMETRY_ONLY)
    assert face.pose is not None and mirrored.pose is not None
    assert abs(face.pose.yaw_deg) > 10
    assert np.sign(face.pose.yaw_deg) == -np.sign(mirrored.pose.yaw_deg)


def test_68_landmarks_on_request(astronaut: np.ndarray) -> None:
    (face,) = analyze_image(astronaut, FaceOptions(embeddings=False, landmarks68=True))
    assert face.landmarks68 is not None and face.landmarks68.shape == (68, 2)
    # dlib's nose tip (30) and the mesh's (1) agree within a few pixels.
    assert face.mesh is not None
    assert np.linalg.norm(face.landmarks68[30] - face.mesh[1, :2]) < 8


def test_an_image_without_faces_gives_no_faces() -> None:
    blank = np.full((240, 320, 3), 127, np.uint8)
    assert analyze_image(blank, GEOMETRY_ONLY) == []

"""Where an action unit cannot be measured (a turned head, sunglasses, a mask) it says so instead of a number."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from evals.au_faces import package_file
from tests.expression.photos import faces_in, mesh_of, only_face, photo
from tools.expression.action_units import MeshGeometryAU, align_to_frontal, estimate_action_units
from tools.expression.au_rules import AU_RULES, FaceRegion
from tools.expression.types import ActionUnits
from tools.faces import FaceOptions, analyze_image
from tools.faces.types import Face
from tools.media import load_image

EYE_AUS = {r.au for r in AU_RULES if r.region == "eyes"}
LOWER_FACE_AUS = {r.au for r in AU_RULES if r.region == "lower face"}
BROW_AUS = {r.au for r in AU_RULES if r.region == "brows"}


def _units(image: np.ndarray, face: Face) -> ActionUnits:
    (units,) = MeshGeometryAU().estimate(image, [face])
    assert units is not None
    return units


def _feat(name: str) -> np.ndarray:
    return load_image(package_file("feat", f"tests/data/{name}"))


def test_a_head_turned_56_degrees_gives_reasons_not_numbers() -> None:
    face = faces_in("group")[4]  # t1.jpg's fifth person, in profile
    units = _units(photo("group"), face)
    assert set(units.not_measurable()) == {r.au for r in AU_RULES}
    assert all("head turned" in reason for reason in units.not_measurable().values())
    payload = units.get("AU12").to_dict()
    assert payload["intensity"] is None and payload["present"] is False
    turned = int(re.search(r"head turned (\d+) degrees", payload["not_measurable"]).group(1))  # type: ignore[union-attr]
    assert 45 <= turned <= 60  # the face pipeline's head pose says 56
    with pytest.raises(ValueError, match="AU12 was not measured: head turned"):
        units.intensity("AU12")
    assert np.isnan(units.intensities()).all() and units.active(0.0) == []


def test_sunglasses_hide_the_eyes_but_not_the_smile() -> None:
    image = _feat("multi_face.jpg")
    faces = analyze_image(image, FaceOptions(embeddings=False))
    glasses = min(faces, key=lambda f: f.box.x0)  # the man on the left wears dark sunglasses
    units = _units(image, glasses)
    assert set(units.not_measurable()) == EYE_AUS
    assert all("eyes covered" in reason for reason in units.not_measurable().values())
    assert units.intensity("AU12") >= 2.0  # his broad smile is still measured
    assert all(units.get(au).measurable for au in BROW_AUS | LOWER_FACE_AUS)


def _draw_mask(image: np.ndarray, mesh: np.ndarray) -> np.ndarray:
    """A light-blue surgical mask drawn over the nose and everything below it, up to the jaw line."""
    outline = [234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361, 323,
               454, 345, 197, 116]
    masked = image.copy()
    cv2.fillPoly(masked, [np.round(mesh[outline, :2]).astype(np.int32)], (170, 200, 230))
    return masked


def test_a_mask_over_the_lower_face_hides_the_mouth_aus() -> None:
    image = photo("astronaut")
    face = faces_in("astronaut")[0]
    masked = _draw_mask(image, mesh_of(face))
    units = estimate_action_units(mesh_of(face), image_rgb=masked)  # the mesh of the face before the mask
    assert set(units.not_measurable()) == LOWER_FACE_AUS
    assert all("mouth covered" in reason for reason in units.not_measurable().values())
    refound = only_face(masked)  # the mesh model still "sees" a mouth under the mask: its guess is not measured
    assert set(_units(masked, refound).not_measurable()) == LOWER_FACE_AUS


def test_a_beard_is_not_a_mask() -> None:
    image = _feat("Image_with_alpha.png")[..., :3].copy()
    units = _units(image, only_face(image))
    assert units.not_measurable() == {}
    assert units.intensity("AU25") >= 2.0  # he laughs with his mouth open


@pytest.mark.parametrize("name", ["astronaut", "tom_hanks", "person0", "person2"])
def test_uncovered_faces_in_measurable_poses_are_fully_measured(name: str) -> None:
    image = photo(name)
    assert _units(image, only_face(image)).not_measurable() == {}


def test_the_pose_fit_recovers_a_known_head_turn() -> None:
    mesh = mesh_of(faces_in("astronaut")[0]).astype(np.float64)
    centre = mesh.mean(axis=0)
    base = align_to_frontal(mesh)
    for yaw_deg in (-30.0, 20.0, 45.0):
        angle = np.radians(yaw_deg)
        turn = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
        turned = align_to_frontal((mesh - centre) @ turn.T + centre)
        assert abs(abs(turned.yaw_deg - base.yaw_deg) - abs(yaw_deg)) < 1.0
        assert np.allclose(turned.points, base.points, atol=1e-6)  # the same frontal face after the fit
    assert estimate_action_units((mesh - centre) @ turn.T + centre).not_measurable() != {}  # 45 degrees


def test_a_tracks_own_neutral_baseline_keeps_what_a_frame_could_not_measure() -> None:
    from tools.expression.action_units import action_units_from_measures
    from tools.expression.analyze import rereference_track
    from tools.expression.au_mesh import measure_face
    from tools.expression.au_reliability import RegionCheck
    from tools.expression.types import EmotionEstimate

    face = faces_in("astronaut")[0]
    neutral = np.array([0.9, 0.02, 0.02, 0.02, 0.02, 0.01, 0.01])
    covered: dict[FaceRegion, RegionCheck] = {"eyes": RegionCheck("eyes", "eyes covered (test)")}
    estimates = [
        EmotionEstimate(neutral, "crafted", 1, i / 5, i, face.box,
                        action_units_from_measures(measure_face(mesh_of(face)), checks=covered if i == 0 else None))
        for i in range(4)
    ]
    out = rereference_track(estimates, [face] * 4)
    assert all(e.action_units is not None and e.action_units.reference == "track-neutral" for e in out)
    assert set(out[0].action_units.not_measurable()) == EYE_AUS  # type: ignore[union-attr]
    assert out[1].action_units.not_measurable() == {}  # type: ignore[union-attr]
    assert out[1].action_units.active(0.01) == ["AU25"]  # type: ignore[union-attr]  # identical frames: no change

"""Cloaking real faces, judged by dlib's own C++ recognizer (dlib-bin), not the PyTorch port the cloak used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from agent.cli import main
from evals.cloak.dlib_judge import THRESHOLD, descriptor, reupload, scaled
from tools.cloak import CloakOptions, cloak_file, cloak_image
from tools.cloak.masks import union_mask
from tools.errors import ConfigError, NoFaceError
from tools.faces.pipeline import FaceOptions, analyze_image

GEOMETRY = FaceOptions(mesh=True, pose=False, embeddings=False)


@pytest.fixture(scope="module")
def cloaked_astronaut(astronaut: np.ndarray) -> tuple[np.ndarray, object, list]:
    faces = analyze_image(astronaut, GEOMETRY)
    image, result = cloak_image(astronaut, CloakOptions(strength="mid"), faces=faces)
    return image, result, faces


@pytest.mark.slow
def test_dlib_no_longer_matches_the_cloaked_astronaut(astronaut: np.ndarray, cloaked_astronaut) -> None:
    image, result, faces = cloaked_astronaut
    box = faces[0].box
    enrolled = descriptor(astronaut, box)
    assert np.linalg.norm(descriptor(astronaut, box) - enrolled) < 1e-9
    assert np.linalg.norm(descriptor(image, box) - enrolled) >= THRESHOLD
    degraded = reupload(image)
    assert np.linalg.norm(descriptor(degraded, scaled(box, 0.5)) - enrolled) >= THRESHOLD
    # a real re-upload of the untouched photo still matches: the protection is the cloak's doing
    assert np.linalg.norm(descriptor(reupload(astronaut), scaled(box, 0.5)) - enrolled) < 0.4
    assert result.faces[0].protected("dlib-resnet")


@pytest.mark.slow
def test_the_cloak_is_small_and_stays_on_the_face(astronaut: np.ndarray, cloaked_astronaut) -> None:
    image, result, faces = cloaked_astronaut
    change = np.abs(image.astype(np.int16) - astronaut.astype(np.int16))
    assert change.max() <= 8
    outside = union_mask(faces, *astronaut.shape[:2]) == 0
    assert change[outside].max() == 0
    assert result.ssim >= 0.95
    # the structure is kept: the mesh found again on the cloaked face moved less than a pixel on average
    assert result.faces[0].mesh_shift_px is not None and result.faces[0].mesh_shift_px < 1.5


@pytest.mark.slow
def test_a_grey_photo_stays_grey(astronaut: np.ndarray, tmp_path: Path) -> None:
    grey = np.asarray(Image.fromarray(astronaut).convert("L"))
    source = tmp_path / "grey.png"
    Image.fromarray(grey).save(source)
    result = cloak_file(source, tmp_path / "out.png", CloakOptions(strength="low", steps=10))
    written = Image.open(tmp_path / "out.png")
    assert written.mode == "L"
    pixels = np.asarray(written)
    assert pixels.shape == grey.shape and np.abs(pixels.astype(int) - grey).max() > 0
    assert result.faces[0].linf <= 4


@pytest.mark.slow
def test_impersonation_moves_a_face_towards_the_target(group_photo: np.ndarray, tmp_path: Path) -> None:
    faces = analyze_image(group_photo, GEOMETRY)
    target_box = faces[1].box
    crop = group_photo[int(target_box.y0) : int(target_box.y1), int(target_box.x0) : int(target_box.x1)]
    target_path = tmp_path / "target.png"
    Image.fromarray(np.pad(crop, ((40, 40), (40, 40), (0, 0)), mode="edge")).save(target_path)
    target = descriptor(group_photo, target_box)
    before = np.linalg.norm(descriptor(group_photo, faces[0].box) - target)
    options = CloakOptions(strength="high", target=str(target_path), face=1, steps=20)
    image, result = cloak_image(group_photo, options, faces=faces)
    after = np.linalg.norm(descriptor(image, faces[0].box) - target)
    assert after < before - 0.15, (before, after)
    untouched = np.abs(image.astype(int) - group_photo)[int(target_box.y0) : int(target_box.y1)]
    assert result.goal == "impersonate" and len(result.faces) == 1
    assert untouched[:, int(target_box.x0) : int(target_box.x1)].max() == 0  # only face 1 changed


def test_a_photo_without_a_face_is_refused(tmp_path: Path) -> None:
    gradient = np.tile(np.linspace(0, 255, 200, dtype=np.uint8), (150, 1))
    with pytest.raises(NoFaceError, match="no face found"):
        cloak_image(np.stack([gradient] * 3, axis=2))


def test_tiny_faces_are_skipped_with_a_reason(astronaut: np.ndarray) -> None:
    small = np.asarray(Image.fromarray(astronaut).resize((160, 160)))
    faces = analyze_image(small, GEOMETRY)
    assert faces and faces[0].box.width < 40
    with pytest.raises(NoFaceError, match="under 40 px"):
        cloak_image(small, faces=faces)


def test_a_face_number_that_does_not_exist(astronaut: np.ndarray) -> None:
    with pytest.raises(ConfigError, match="--face 3 does not exist: the image has 1 face"):
        cloak_image(astronaut, CloakOptions(face=3))


def test_a_target_without_a_face(astronaut: np.ndarray, tmp_path: Path) -> None:
    blank = tmp_path / "wall.png"
    Image.fromarray(np.full((120, 120, 3), 200, dtype=np.uint8)).save(blank)
    with pytest.raises(NoFaceError, match="target photo has no face"):
        cloak_image(astronaut, CloakOptions(target=str(blank)))


def test_cli_bad_input_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blank = tmp_path / "wall.png"
    Image.fromarray(np.full((120, 120, 3), 200, dtype=np.uint8)).save(blank)
    assert main(["cloak", str(blank), str(tmp_path / "out.png")]) == 4
    assert "no face found" in capsys.readouterr().err
    assert main(["cloak", str(blank), str(tmp_path / "out.png"), "--strength", "max"]) == 2
    assert "unknown --strength 'max'" in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()

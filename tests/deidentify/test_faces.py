"""Hiding faces in still images (real photos): the detector no longer finds them, and nothing else is touched.

"Our detector" is the mediapipe backend of ``tools.faces``. Faces are found at 0.5; the checks run a separately
built detector at 0.3. (mediapipe's legacy face-detection graph does not report scores under 0.5, so 0.3 finds
the same as 0.5 would; it is the lowest setting the backend offers.)
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from evals.samples import group_photo_path
from tools.deidentify import FaceMaskStyle, anonymize_faces, deidentify_image, hide_faces
from tools.deidentify.faces import covered_region
from tools.errors import ConfigError, MediaError
from tools.faces.detect_mediapipe import MediapipeDetector
from tools.faces.types import Box
from tools.media import load_image


@pytest.fixture(scope="module")
def finder() -> MediapipeDetector:
    return MediapipeDetector(min_score=0.5)


@pytest.fixture(scope="module")
def checker() -> MediapipeDetector:
    return MediapipeDetector(min_score=0.3)


def _laplacian(image: np.ndarray, box: Box) -> np.ndarray:
    crop = image[int(box.y0) : int(box.y1), int(box.x0) : int(box.x1)]
    return cv2.Laplacian(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), cv2.CV_64F)


def sharpness(image: np.ndarray, box: Box) -> float:
    """Variance of the Laplacian inside ``box``: high for a sharp face, near zero once blurred or masked."""
    return float(_laplacian(image, box).var())


def detail_kept(original: np.ndarray, hidden: np.ndarray, box: Box) -> float:
    """Correlation of the fine detail (Laplacian) of the face before and after: ~1 untouched, ~0 gone.

    Unlike sharpness, this is not fooled by the sharp edges of pixelation blocks, which are not the face's.
    """
    a, b = _laplacian(original, box).ravel(), _laplacian(hidden, box).ravel()
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


@pytest.mark.parametrize("mode", ["blur", "mask", "pixelate"])
def test_no_face_is_found_in_the_group_photo_after_hiding(
    mode: str, group_photo: np.ndarray, finder: MediapipeDetector, checker: MediapipeDetector
) -> None:
    faces = finder.detect(group_photo)
    assert len(faces) == 6
    result = hide_faces(group_photo, mode=mode)
    assert len(result.boxes) >= 6
    assert checker.detect(result.image) == []
    for face in faces:
        assert detail_kept(group_photo, result.image, face.box) < 0.1


def test_the_astronaut_is_hidden_and_the_input_left_alone(astronaut: np.ndarray, checker: MediapipeDetector) -> None:
    before = astronaut.copy()
    result = hide_faces(astronaut)
    assert np.array_equal(astronaut, before)
    assert checker.detect(result.image) == []


def test_blurring_destroys_the_face_detail(astronaut: np.ndarray, finder: MediapipeDetector) -> None:
    (face,) = finder.detect(astronaut)
    hidden = anonymize_faces(astronaut, [face])
    assert sharpness(hidden, face.box) < 0.05 * sharpness(astronaut, face.box)
    assert detail_kept(astronaut, astronaut, face.box) == pytest.approx(1.0)
    assert detail_kept(astronaut, hidden, face.box) < 0.1
    # The eyes-to-cheek contrast is gone: the face region is nearly flat.
    inner = face.box.expanded(0.8)
    rows, cols = slice(int(inner.y0), int(inner.y1)), slice(int(inner.x0), int(inner.x1))
    spread_before = astronaut[rows, cols].astype(float).std(axis=(0, 1)).max()
    assert hidden[rows, cols].astype(float).std(axis=(0, 1)).max() < 0.4 * spread_before


def test_only_the_face_regions_change(group_photo: np.ndarray, finder: MediapipeDetector) -> None:
    faces = finder.detect(group_photo)
    style = FaceMaskStyle()
    hidden = anonymize_faces(group_photo, faces, style)
    height, width = group_photo.shape[:2]
    untouched = np.ones((height, width), dtype=bool)
    for face in faces:
        r = covered_region(face.box, style, width, height)
        untouched[int(r.y0) : int(np.ceil(r.y1)), int(r.x0) : int(np.ceil(r.x1))] = False
    assert untouched.mean() > 0.8
    assert np.array_equal(hidden[untouched], group_photo[untouched])


def test_the_mask_is_an_ellipse_with_a_soft_edge(astronaut: np.ndarray, finder: MediapipeDetector) -> None:
    (face,) = finder.detect(astronaut)
    style = FaceMaskStyle(mode="mask", mask_rgb=(0, 255, 0), margin=1.5, feather=0.2)
    hidden = anonymize_faces(astronaut, [face], style).astype(int)
    cx, cy = (round(v) for v in face.box.center)
    semi_x = face.box.width * 1.5 / 2
    assert hidden[cy, cx].tolist() == [0, 255, 0]  # centre: fully masked
    # The box's corner lies inside the ellipse (margin 1.5 covers the whole detector box).
    assert hidden[int(face.box.y0) + 1, int(face.box.x0) + 1].tolist() == [0, 255, 0]
    # Halfway through the soft edge: a blend of mask and photo; past it: the photo.
    x_mid, x_out = round(cx + semi_x * 1.1), round(cx + semi_x * 1.25)
    blend = hidden[cy, x_mid]
    assert blend.tolist() != astronaut[cy, x_mid].tolist() and blend.tolist() != [0, 255, 0]
    assert hidden[cy, x_out].tolist() == astronaut[cy, x_out].tolist()


def test_pixelation_is_blocky(astronaut: np.ndarray, finder: MediapipeDetector) -> None:
    (face,) = finder.detect(astronaut)
    hidden = anonymize_faces(astronaut, [face], FaceMaskStyle(mode="pixelate", pixel_blocks=6))
    inner = face.box.expanded(0.5)
    crop = hidden[int(inner.y0) : int(inner.y1), int(inner.x0) : int(inner.x1)].reshape(-1, 3)
    assert len(np.unique(crop, axis=0)) <= 16  # a handful of blocks, not a photo's thousands of colours


def test_an_image_file_is_deidentified(tmp_path: Path, checker: MediapipeDetector) -> None:
    report = deidentify_image(group_photo_path(), tmp_path / "group.jpg")
    written = load_image(tmp_path / "group.jpg")
    assert written.shape == load_image(group_photo_path()).shape
    assert checker.detect(written) == []
    assert report.kind == "image" and report.faces_detected >= 6 and report.frames_flagged == 0
    assert report.faces_hidden >= report.faces_detected
    assert [p.name for p in tmp_path.iterdir()] == ["group.jpg"]  # no temporary file left behind


def test_a_corrupt_image_gives_a_clear_error_and_no_output(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(group_photo_path().read_bytes()[:2000])
    with pytest.raises(MediaError, match=r"broken\.jpg"):
        deidentify_image(broken, tmp_path / "out.png")
    assert not (tmp_path / "out.png").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.jpg"]


def test_bad_arguments_are_refused(tmp_path: Path, astronaut: np.ndarray) -> None:
    with pytest.raises(ConfigError, match="unknown anonymization mode"):
        FaceMaskStyle(mode="smudge")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="margin"):
        FaceMaskStyle(margin=0.8)
    with pytest.raises(MediaError, match="RGB uint8"):
        anonymize_faces(astronaut.astype(np.float32), [])
    with pytest.raises(ConfigError, match="overwrite the input"):
        deidentify_image(group_photo_path(), group_photo_path())
    with pytest.raises(ConfigError, match=r"\.jpg"):
        deidentify_image(group_photo_path(), tmp_path / "out.gif")

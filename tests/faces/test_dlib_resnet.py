"""The dlib ResNet port: the file reader, exactness against dlib itself, identity decisions on real photos, the
differentiable chip path, and bad input.

Faces come from dlib's own HOG detector on real photos shipped by packages (t1.jpg with six people, Tom Hanks,
scikit-image's astronaut), so the reference descriptors are exactly what ``face_recognition`` users get from dlib.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import cv2
import dlib
import numpy as np
import pytest
import torch

from tools.errors import MienError, ModelUnavailableError, NoFaceError
from tools.faces.dlib_models import RESNET_FILE, SHAPE_5_FILE, dlib_model_path
from tools.faces.dlib_resnet import (
    DLIB_MATCH_THRESHOLD,
    DlibResnetEmbedder,
    chip_geometry,
    raw_dlib_descriptors,
    read_dlib_resnet,
    warp_chips,
)
from tools.faces.dlib_resnet.chip import shape_points
from tools.faces.embedders import get_embedder
from tools.faces.types import Box, Face


def hog_faces(image_rgb: np.ndarray, want: int = 1) -> list[Face]:
    """dlib HOG detections (fewest upsamplings that find ``want`` faces), best ``want`` by score, left to right.

    Boxes use the pipeline's convention (x1/y1 exclusive), so the embedder's rectangle is dlib's own.
    """
    detector = dlib.get_frontal_face_detector()
    image = np.ascontiguousarray(image_rgb)
    for upsample in range(3):
        rects, scores, _ = detector.run(image, upsample, 0.0)
        if len(rects) >= want:
            best = sorted(zip(scores, rects, strict=True), key=lambda sr: -sr[0])[:want]
            faces = [
                Face(Box(r.left(), r.top(), r.right() + 1.0, r.bottom() + 1.0), float(s), detector="dlib-hog")
                for s, r in best
            ]
            return sorted(faces, key=lambda f: f.box.x0)
    raise AssertionError(f"dlib's HOG detector found fewer than {want} faces")


def dlib_reference(image_rgb: np.ndarray, faces: list[Face]) -> np.ndarray:
    """dlib-bin's own ``compute_face_descriptor`` for each face (n, 128) float64."""
    predictor = dlib.shape_predictor(str(dlib_model_path(SHAPE_5_FILE)))
    model = dlib.face_recognition_model_v1(str(dlib_model_path(RESNET_FILE)))
    image = np.ascontiguousarray(image_rgb)
    rows = []
    for face in faces:
        b = face.box
        rect = dlib.rectangle(int(b.x0), int(b.y0), int(b.x1) - 1, int(b.y1) - 1)
        rows.append(np.array(model.compute_face_descriptor(image, predictor(image, rect))))
    return np.stack(rows)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="module")
def embedder() -> DlibResnetEmbedder:
    built = get_embedder("dlib-resnet")
    assert isinstance(built, DlibResnetEmbedder)
    return built


@pytest.fixture(scope="module")
def group_faces(group_photo: np.ndarray) -> list[Face]:
    return hog_faces(group_photo, want=6)


@pytest.fixture(scope="module")
def astronaut_versions(astronaut: np.ndarray) -> dict[str, tuple[np.ndarray, list[Face]]]:
    """The astronaut, her horizontal mirror and a 0.6x copy, each with its HOG face."""
    images = {
        "original": astronaut,
        "mirror": np.ascontiguousarray(astronaut[:, ::-1]),
        "small": cv2.resize(astronaut, (307, 307), interpolation=cv2.INTER_AREA),
    }
    return {name: (image, hog_faces(image)) for name, image in images.items()}


# --- the reader ---------------------------------------------------------------------------------------------


def test_reader_reads_every_layer_and_the_stored_details() -> None:
    weights = read_dlib_resnet(dlib_model_path(RESNET_FILE))
    kinds = [layer.spec.kind for layer in weights.layers]
    assert len(kinds) == 130
    assert kinds.count("con") == 29 and kinds.count("affine") == 29 and kinds.count("fc") == 1
    assert weights.parameter_count == 5_614_592
    assert weights.input_size_px == 150
    np.testing.assert_allclose(weights.input_means_rgb, [122.782, 117.001, 104.298], atol=1e-4)
    assert weights.loss_distance_threshold == pytest.approx(0.6, abs=1e-6)
    assert weights.loss_margin == pytest.approx(0.04, abs=1e-6)
    assert weights.layers[0].arrays["weight"].shape == (32, 3, 7, 7)
    assert weights.layers[-1].arrays["weight"].shape == (128, 256)


@pytest.mark.parametrize(("cut", "extra", "message"), [(10, b"", "ends early"), (0, b"\x00", "bytes left")])
def test_reader_refuses_a_truncated_or_padded_file(tmp_path: Path, cut: int, extra: bytes, message: str) -> None:
    data = dlib_model_path(RESNET_FILE).read_bytes()
    damaged = tmp_path / "damaged.dat"
    damaged.write_bytes(data[: len(data) - cut] + extra)
    with pytest.raises(ModelUnavailableError, match=message):
        read_dlib_resnet(damaged)


def test_reader_refuses_another_dlib_model() -> None:
    with pytest.raises(ModelUnavailableError, match="not dlib's face recognition ResNet"):
        read_dlib_resnet(dlib_model_path(SHAPE_5_FILE))


# --- exactness against dlib ---------------------------------------------------------------------------------


def test_port_equals_dlib_on_the_six_people_of_t1(group_photo: np.ndarray, group_faces: list[Face]) -> None:
    ours = raw_dlib_descriptors(group_photo, group_faces)
    reference = dlib_reference(group_photo, group_faces)
    assert ours.shape == (6, 128) and ours.dtype == np.float32
    assert np.abs(ours - reference).max() <= 1e-5


def test_port_equals_dlib_on_tom_hanks_and_the_astronaut(
    tom_hanks: np.ndarray, astronaut_versions: dict[str, tuple[np.ndarray, list[Face]]]
) -> None:
    for image, faces in ((tom_hanks, hog_faces(tom_hanks)), astronaut_versions["original"]):
        assert np.abs(raw_dlib_descriptors(image, faces) - dlib_reference(image, faces)).max() <= 1e-5


def test_one_batched_forward_equals_faces_one_at_a_time(
    embedder: DlibResnetEmbedder, group_photo: np.ndarray, group_faces: list[Face]
) -> None:
    batched = embedder.embed(group_photo, group_faces)
    single = np.concatenate([embedder.embed(group_photo, [face]) for face in group_faces])
    assert batched.shape == (6, 128) and batched.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-6)
    assert np.abs(batched - single).max() <= 1e-5


# --- identity decisions on real faces -----------------------------------------------------------------------


def test_astronaut_matches_her_mirror_and_a_smaller_copy(
    embedder: DlibResnetEmbedder, astronaut_versions: dict[str, tuple[np.ndarray, list[Face]]]
) -> None:
    raw = {name: embedder.raw_descriptors(image, faces)[0] for name, (image, faces) in astronaut_versions.items()}
    for other in ("mirror", "small"):
        similarity = cosine(raw["original"], raw[other])
        assert similarity >= embedder.match_threshold, other
        assert np.linalg.norm(raw["original"] - raw[other]) < 0.6, other  # dlib's own rule agrees


def test_the_six_people_of_t1_are_pairwise_different(
    embedder: DlibResnetEmbedder, group_photo: np.ndarray, group_faces: list[Face]
) -> None:
    vectors = embedder.embed(group_photo, group_faces)
    raw = embedder.raw_descriptors(group_photo, group_faces)
    for i, j in itertools.combinations(range(6), 2):
        assert float(vectors[i] @ vectors[j]) < embedder.match_threshold, (i, j)
        assert np.linalg.norm(raw[i] - raw[j]) >= 0.6, (i, j)


def test_cosine_threshold_decides_like_dlibs_euclidean_rule(
    embedder: DlibResnetEmbedder,
    group_photo: np.ndarray,
    group_faces: list[Face],
    astronaut_versions: dict[str, tuple[np.ndarray, list[Face]]],
) -> None:
    """``match_threshold`` was calibrated as the cosine equivalent of dlib's Euclidean 0.6 on raw descriptors."""
    raw = list(embedder.raw_descriptors(group_photo, group_faces))
    raw += [embedder.raw_descriptors(image, faces)[0] for image, faces in astronaut_versions.values()]
    for a, b in itertools.combinations(raw, 2):
        assert (np.linalg.norm(a - b) < 0.6) == (cosine(a, b) >= DLIB_MATCH_THRESHOLD)


# --- the differentiable chip ----------------------------------------------------------------------------------


def test_torch_chip_geometry_equals_dlibs_chip_details(group_photo: np.ndarray, group_faces: list[Face]) -> None:
    chipper = get_embedder("dlib-resnet").chipper  # type: ignore[attr-defined]
    for shape in chipper.shapes(group_photo, [f.box for f in group_faces]):
        details = dlib.get_face_chip_details(shape, 150, 0.25)
        geometry = chip_geometry(shape_points(shape))
        assert geometry.side_px == pytest.approx(details.rect.width(), abs=1e-6)
        assert geometry.angle_rad == pytest.approx(details.angle, abs=1e-9)


@pytest.mark.parametrize(("scale", "max_pixel_diff"), [(1, 1.01), (3, 3.0)])
def test_torch_chip_is_within_a_few_grey_levels_of_dlibs(
    embedder: DlibResnetEmbedder,
    astronaut_versions: dict[str, tuple[np.ndarray, list[Face]]],
    scale: int,
    max_pixel_diff: float,
) -> None:
    """At 3x the face is large enough that dlib samples from its image pyramid, which the torch path rebuilds."""
    astronaut, (face,) = astronaut_versions["original"]
    image = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    b = face.box
    faces = [Face(Box(b.x0 * scale, b.y0 * scale, b.x1 * scale, b.y1 * scale), face.score)]
    geometries = embedder.chip_geometries(image, faces)
    assert geometries[0].pyramid_levels() == (0 if scale == 1 else 1)
    tensor = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float()
    ours = warp_chips(tensor, geometries)[0].permute(1, 2, 0).numpy()
    dlibs = embedder.chips(image, faces)[0].astype(np.float32)
    assert np.abs(ours - dlibs).max() <= max_pixel_diff
    with torch.no_grad():
        descriptor = embedder.differentiable_descriptors(tensor, geometries)[0].numpy()
    assert np.linalg.norm(descriptor - embedder.raw_descriptors(image, faces)[0]) < 0.02


def test_gradients_reach_the_pixels_of_the_original_image(
    embedder: DlibResnetEmbedder, astronaut_versions: dict[str, tuple[np.ndarray, list[Face]]]
) -> None:
    astronaut, faces = astronaut_versions["original"]
    geometries = embedder.chip_geometries(astronaut, faces)
    image = torch.from_numpy(astronaut).permute(2, 0, 1).float().requires_grad_(True)
    target = torch.from_numpy(embedder.raw_descriptors(astronaut, faces)[0])
    descriptor = embedder.differentiable_descriptors(image, geometries)[0]
    loss = -(descriptor - target).norm() - descriptor.norm()  # any scalar of the descriptor
    loss.backward()
    assert image.grad is not None
    grad = image.grad.abs().sum(dim=0).numpy()  # (H, W)
    assert np.isfinite(grad).all()
    box = faces[0].box
    inside = grad[int(box.y0) : int(box.y1), int(box.x0) : int(box.x1)]
    assert (inside > 0).mean() > 0.9  # nearly every face pixel gets a gradient
    assert grad[400:, :].sum() == 0.0  # the lower body is outside the chip: no gradient there
    assert grad[400:, :].size > 0


# --- bad input ---------------------------------------------------------------------------------------------------


def test_no_faces_give_an_empty_array(embedder: DlibResnetEmbedder, astronaut: np.ndarray) -> None:
    empty = embedder.embed(astronaut, [])
    assert empty.shape == (0, 128) and empty.dtype == np.float32


def test_a_box_outside_the_image_is_refused(embedder: DlibResnetEmbedder, astronaut: np.ndarray) -> None:
    with pytest.raises(NoFaceError, match="outside the 512x512 image"):
        embedder.embed(astronaut, [Face(Box(600.0, 600.0, 700.0, 700.0), 0.9)])
    with pytest.raises(NoFaceError, match="empty"):
        embedder.embed(astronaut, [Face(Box(100.0, 100.0, 100.0, 180.0), 0.9)])


def test_an_image_that_is_not_rgb_uint8_is_refused(embedder: DlibResnetEmbedder, astronaut: np.ndarray) -> None:
    face = Face(Box(175.0, 76.0, 266.0, 167.0), 0.9)
    with pytest.raises(MienError, match="uint8"):
        embedder.embed(astronaut.astype(np.float32), [face])
    with pytest.raises(MienError, match=r"\(H, W, 3\)"):
        embedder.embed(astronaut[..., 0], [face])

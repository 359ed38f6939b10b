"""The embedder registry and the ArcFace ONNX backend.

No package ships ArcFace weights, so the ArcFace tests build a tiny ONNX model themselves (a strided convolution
and a linear layer, random weights) with ArcFace's signature: input (N or 1, 3, 112, 112) float, output (N, 512).
They check the loading, alignment, preprocessing and batching code around the model, not ArcFace's accuracy.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import dlib
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from tools.errors import ConfigError, ModelUnavailableError, NoFaceError
from tools.faces.arcface_onnx import (
    ARCFACE_TEMPLATE_112,
    ArcFaceOnnxEmbedder,
    arcface_alignment,
    arcface_landmarks,
    normalisation_in_graph,
)
from tools.faces.dlib_models import SHAPE_68_FILE, dlib_model_path
from tools.faces.embedders import EMBEDDERS, get_embedder
from tools.faces.protocols import Embedder
from tools.faces.types import Box, Face
from tools.settings import get_settings

# --- a tiny model with ArcFace's signature -------------------------------------------------------------------


def build_tiny_arcface(path: Path, batch: int | str = "N", scaling_in_graph: bool = False) -> Path:
    """Conv 8x8/8 (3 -> 8 channels) -> ReLU -> Flatten -> Gemm (1568 -> 512), seeded random weights."""
    rng = np.random.default_rng(7)
    conv = rng.normal(0.0, 0.05, (8, 3, 8, 8)).astype(np.float32)
    dense = rng.normal(0.0, 0.05, (8 * 14 * 14, 512)).astype(np.float32)
    nodes = []
    initializers = [numpy_helper.from_array(conv, "conv_w"), numpy_helper.from_array(dense, "fc_w")]
    first = "data"
    if scaling_in_graph:  # as MXNet exports do: (x - 127.5) * (1 / 127.5) inside the graph
        initializers += [
            numpy_helper.from_array(np.array(127.5, dtype=np.float32), "mean"),
            numpy_helper.from_array(np.array(1.0 / 127.5, dtype=np.float32), "inv_std"),
        ]
        nodes += [
            helper.make_node("Sub", ["data", "mean"], ["centred"]),
            helper.make_node("Mul", ["centred", "inv_std"], ["scaled"]),
        ]
        first = "scaled"
    nodes += [
        helper.make_node("Conv", [first, "conv_w"], ["c"], kernel_shape=[8, 8], strides=[8, 8]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Flatten", ["r"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "fc_w"], ["fc1"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_arcface",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [batch, 3, 112, 112])],
        [helper.make_tensor_value_info("fc1", TensorProto.FLOAT, [batch, 512])],
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("models")
    build_tiny_arcface(root / "arcface" / "w600k_tiny.onnx")
    return root


@pytest.fixture(scope="module")
def arcface(model_dir: Path) -> ArcFaceOnnxEmbedder:
    return ArcFaceOnnxEmbedder(model_dir / "arcface" / "w600k_tiny.onnx")


@lru_cache(maxsize=1)
def dlib_models() -> tuple[Any, Any]:
    """dlib's HOG detector and 68-point predictor, loaded once (the predictor file is 100 MB)."""
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(dlib_model_path(SHAPE_68_FILE)))


def faces_with_68_landmarks(image_rgb: np.ndarray, want: int) -> list[Face]:
    """dlib HOG boxes plus dlib's 68 points, the inputs an ArcFace backend aligns with."""
    image = np.ascontiguousarray(image_rgb)
    detector, predictor = dlib_models()
    for upsample in range(3):
        rects, scores, _ = detector.run(image, upsample, 0.0)
        if len(rects) >= want:
            break
    best = sorted(zip(scores, rects, strict=True), key=lambda sr: -sr[0])[:want]
    faces = []
    for score, rect in best:
        face = Face(Box(rect.left(), rect.top(), rect.right() + 1.0, rect.bottom() + 1.0), float(score))
        face.landmarks68 = np.array([(p.x, p.y) for p in predictor(image, rect).parts()], dtype=np.float64)
        faces.append(face)
    assert len(faces) == want
    return sorted(faces, key=lambda f: f.box.x0)


# --- the registry ------------------------------------------------------------------------------------------------


def test_registry_lists_both_backends_with_dlib_as_default() -> None:
    assert set(EMBEDDERS.names()) >= {"dlib-resnet", "arcface-onnx"}
    defaults = [entry.name for entry in EMBEDDERS.entries() if entry.default]
    assert defaults == ["dlib-resnet"]
    embedder = get_embedder()
    assert isinstance(embedder, Embedder)
    assert (embedder.name, embedder.dim) == ("dlib-resnet", 128)
    assert get_embedder("dlib-resnet") is embedder  # built once


def test_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="arcface-onnx, dlib-resnet"):
        get_embedder("facenet")


def test_arcface_readiness_follows_the_settings(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = next(e for e in EMBEDDERS.entries() if e.name == "arcface-onnx")
    monkeypatch.delenv("MIEN_ARCFACE_PATH", raising=False)
    monkeypatch.delenv("MIEN_MODEL_DIR", raising=False)
    get_settings.cache_clear()
    assert entry.ready() is False
    monkeypatch.setenv("MIEN_MODEL_DIR", str(model_dir))
    get_settings.cache_clear()
    assert entry.ready() is True
    assert entry.weights() == str(model_dir / "arcface")


# --- loading -------------------------------------------------------------------------------------------------------


def test_arcface_loads_from_the_model_dir_folder(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIEN_MODEL_DIR", str(model_dir))
    get_settings.cache_clear()
    embedder = ArcFaceOnnxEmbedder()
    assert embedder.model_path == model_dir / "arcface" / "w600k_tiny.onnx"
    assert (embedder.name, embedder.dim, embedder.size_px) == ("arcface-onnx", 512, 112)
    assert embedder.match_threshold == pytest.approx(0.32)
    assert isinstance(embedder, Embedder)


def test_arcface_path_setting_wins_and_threshold_is_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = build_tiny_arcface(tmp_path / "elsewhere" / "custom.onnx")
    monkeypatch.setenv("MIEN_ARCFACE_PATH", str(model))
    monkeypatch.setenv("MIEN_ARCFACE_MATCH_THRESHOLD", "0.4")
    get_settings.cache_clear()
    embedder = ArcFaceOnnxEmbedder()
    assert embedder.model_path == model and embedder.match_threshold == pytest.approx(0.4)


def test_missing_or_ambiguous_models_are_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIEN_ARCFACE_PATH", raising=False)
    monkeypatch.delenv("MIEN_MODEL_DIR", raising=False)
    get_settings.cache_clear()
    with pytest.raises(ModelUnavailableError, match="MIEN_ARCFACE_PATH"):
        ArcFaceOnnxEmbedder()
    with pytest.raises(ModelUnavailableError, match=r"no \.onnx file"):
        (tmp_path / "empty").mkdir()
        ArcFaceOnnxEmbedder(tmp_path / "empty")
    build_tiny_arcface(tmp_path / "two" / "w600k_a.onnx")
    build_tiny_arcface(tmp_path / "two" / "w600k_b.onnx")
    with pytest.raises(ConfigError, match="several ONNX models"):
        ArcFaceOnnxEmbedder(tmp_path / "two")
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelUnavailableError, match="cannot load ArcFace ONNX model"):
        ArcFaceOnnxEmbedder(tmp_path / "junk.onnx")


# --- alignment and preprocessing -------------------------------------------------------------------------------


def test_alignment_puts_the_landmarks_on_the_arcface_template(astronaut: np.ndarray) -> None:
    face = faces_with_68_landmarks(astronaut, 1)[0]
    points = arcface_landmarks(face)
    assert points is not None
    assert points[0, 0] < points[1, 0] and points[3, 0] < points[4, 0]  # image-left eye and mouth corner first
    matrix = arcface_alignment(points)
    mapped = points @ matrix[:, :2].T + matrix[:, 2]
    residual = np.linalg.norm(mapped - ARCFACE_TEMPLATE_112, axis=1)
    assert residual.max() < 8.0 and residual.mean() < 5.0  # a real (smiling) face fits the template to a few pixels


def test_aligned_crop_pixel_is_the_image_sampled_through_the_alignment(
    arcface: ArcFaceOnnxEmbedder, astronaut: np.ndarray
) -> None:
    face = faces_with_68_landmarks(astronaut, 1)[0]
    crop = arcface.aligned_faces(astronaut, [face])[0].astype(float)
    matrix = arcface_alignment(arcface_landmarks(face))  # type: ignore[arg-type]
    inverse = np.linalg.inv(np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
    image = astronaut.astype(float)
    for x, y in ((56, 60), (40, 90), (80, 30), (20, 20)):
        ix, iy = inverse @ np.array([x, y, 1.0])
        x0, y0 = int(np.floor(ix)), int(np.floor(iy))
        fx, fy = ix - x0, iy - y0
        expected = (
            image[y0, x0] * (1 - fx) * (1 - fy)
            + image[y0, x0 + 1] * fx * (1 - fy)
            + image[y0 + 1, x0] * (1 - fx) * fy
            + image[y0 + 1, x0 + 1] * fx * fy
        )
        assert np.abs(crop[y, x] - expected).max() <= 2.0


def test_preprocessing_is_rgb_scaled_to_minus_one_one(arcface: ArcFaceOnnxEmbedder, group_photo: np.ndarray) -> None:
    faces = faces_with_68_landmarks(group_photo, 6)
    crops = arcface.aligned_faces(group_photo, faces)
    expected_raw = ReferenceEvaluator(str(arcface.model_path)).run(
        None, {"data": ((crops.astype(np.float32) - 127.5) / 127.5).transpose(0, 3, 1, 2)}
    )[0]
    expected = expected_raw / np.linalg.norm(expected_raw, axis=1, keepdims=True)
    np.testing.assert_allclose(arcface.embed(group_photo, faces), expected, atol=1e-4)


def test_models_that_scale_inside_the_graph_get_raw_pixels(
    arcface: ArcFaceOnnxEmbedder, tmp_path: Path, group_photo: np.ndarray
) -> None:
    scaled = ArcFaceOnnxEmbedder(build_tiny_arcface(tmp_path / "mx.onnx", scaling_in_graph=True))
    assert normalisation_in_graph(scaled.model_path) and not normalisation_in_graph(arcface.model_path)
    faces = faces_with_68_landmarks(group_photo, 6)
    np.testing.assert_allclose(scaled.embed(group_photo, faces), arcface.embed(group_photo, faces), atol=1e-4)


# --- batching and bad input ------------------------------------------------------------------------------------


def test_all_faces_go_in_one_batch_and_equal_faces_one_at_a_time(
    arcface: ArcFaceOnnxEmbedder, tmp_path: Path, group_photo: np.ndarray
) -> None:
    faces = faces_with_68_landmarks(group_photo, 6)
    batched = arcface.embed(group_photo, faces)
    assert batched.shape == (6, 512) and batched.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    single = np.concatenate([arcface.embed(group_photo, [face]) for face in faces])
    np.testing.assert_allclose(batched, single, atol=1e-5)
    fixed_one = ArcFaceOnnxEmbedder(build_tiny_arcface(tmp_path / "b1.onnx", batch=1))  # models exported at batch 1
    np.testing.assert_allclose(fixed_one.embed(group_photo, faces), batched, atol=1e-5)


def test_landmarks5_are_used_and_faces_without_landmarks_get_dlibs_68(
    arcface: ArcFaceOnnxEmbedder, astronaut: np.ndarray
) -> None:
    face = faces_with_68_landmarks(astronaut, 1)[0]
    from_68 = arcface.embed(astronaut, [face])
    five = Face(face.box, face.score, landmarks5=arcface_landmarks(face))
    np.testing.assert_allclose(arcface.embed(astronaut, [five]), from_68, atol=1e-6)
    box_only = Face(face.box, face.score)
    np.testing.assert_allclose(arcface.embed(astronaut, [box_only]), from_68, atol=1e-6)
    assert box_only.landmarks68 is None  # embedding does not write into the caller's faces
    points = arcface_landmarks(face)
    assert points is not None
    shifted = Face(face.box, face.score, landmarks5=points + 6.0)
    assert not np.allclose(arcface.embed(astronaut, [shifted]), from_68, atol=1e-3)


def test_arcface_bad_input(arcface: ArcFaceOnnxEmbedder, astronaut: np.ndarray) -> None:
    empty = arcface.embed(astronaut, [])
    assert empty.shape == (0, 512) and empty.dtype == np.float32
    with pytest.raises(NoFaceError, match="outside the 512x512 image"):
        arcface.embed(astronaut, [Face(Box(-300.0, 10.0, -200.0, 90.0), 0.9, landmarks5=np.zeros((5, 2)))])
    with pytest.raises(NoFaceError, match="degenerate"):
        arcface.embed(astronaut, [Face(Box(10.0, 10.0, 90.0, 90.0), 0.9, landmarks5=np.full((5, 2), 50.0))])

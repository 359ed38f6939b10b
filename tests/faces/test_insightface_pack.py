"""The ``insightface-pack`` detector and embedder, on a tiny model pack that these tests build.

No package ships an insightface pack (buffalo_l is a download), so the pack here is two tiny ONNX graphs with the
signatures insightface routes by: a SCRFD-shaped detector (input 1x3x64x64, 9 outputs: scores, box distances and
keypoint distances for strides 8/16/32, two anchors per cell) and the tiny ArcFace of ``test_embedders``. The
detector's graph puts a known box on one anchor, with a score that is a sigmoid of the mean input pixel, so the
box, landmarks and score that come out of insightface's own letterbox, anchor decoding and NMS can be predicted by
hand. These tests check the wiring around insightface's ``FaceAnalysis``, not SCRFD's or ArcFace's accuracy.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.faces.test_embedders import build_tiny_arcface
from tools.errors import ModelUnavailableError, NoFaceError
from tools.faces.arcface_onnx import ArcFaceOnnxEmbedder
from tools.faces.detectors import DETECTORS
from tools.faces.embedders import EMBEDDERS
from tools.faces.insightface_pack import InsightfacePackDetector, InsightfacePackEmbedder
from tools.faces.protocols import Detector, Embedder
from tools.faces.types import Box, Face
from tools.registry import BackendEntry
from tools.settings import get_settings

INPUT_PX = 64
STRIDES = (8, 16, 32)
ANCHORS = 2
SCORE_GAIN, SCORE_BIAS = 8.0, 4.0  # score = sigmoid(8 * mean(blob) + 4): ~0.02 on black, ~1 on bright images
# The face: stride-8 anchor at row 3, column 4 (centre (32, 24) in input pixels), anchor 0.
FACE_ANCHOR = (3 * (INPUT_PX // 8) + 4) * ANCHORS
FACE_BOX_DIST = np.array([2.0, 1.5, 2.0, 2.5])  # left, top, right, bottom in stride units -> (16, 12, 48, 44)
FACE_KPS_OFFSETS_PX = np.array([[-6, -4], [6, -4], [0, 4], [-5, 12], [5, 12]], dtype=np.float64)
FACE_BOX_INPUT = np.array([16.0, 12.0, 48.0, 44.0])
FACE_KPS_INPUT = np.array([[26, 20], [38, 20], [32, 28], [27, 36], [37, 36]], dtype=np.float64)
# A second, weaker box on a stride-16 anchor (row 1, column 2, anchor 1; centre (32, 16)) covering the same face:
# insightface's NMS must drop it. A third on stride 32 scores 0.3 x the face's: below the 0.5 threshold.
DUPLICATE_ANCHOR = (1 * (INPUT_PX // 16) + 2) * ANCHORS + 1
DUPLICATE_BOX_DIST = np.array([1.0, 0.25, 1.0, 1.75])  # -> (16, 12, 48, 44) again


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + np.exp(-x))


def build_tiny_scrfd(path: Path) -> Path:
    """A graph with SCRFD's 9-output signature whose outputs are constants gated by the image's mean pixel."""
    counts = [(INPUT_PX // s) ** 2 * ANCHORS for s in STRIDES]
    masks = [np.zeros((n, 1), dtype=np.float32) for n in counts]
    boxes = [np.zeros((n, 4), dtype=np.float32) for n in counts]
    kps = [np.zeros((n, 10), dtype=np.float32) for n in counts]
    masks[0][FACE_ANCHOR] = 1.0
    boxes[0][FACE_ANCHOR] = FACE_BOX_DIST
    kps[0][FACE_ANCHOR] = (FACE_KPS_OFFSETS_PX / 8.0).ravel()
    masks[1][DUPLICATE_ANCHOR] = 0.9
    boxes[1][DUPLICATE_ANCHOR] = DUPLICATE_BOX_DIST
    masks[2][3] = 0.3
    boxes[2][3] = [0.5, 0.5, 0.5, 0.5]
    initializers = [
        numpy_helper.from_array(np.array(SCORE_GAIN, dtype=np.float32), "gain"),
        numpy_helper.from_array(np.array(SCORE_BIAS, dtype=np.float32), "bias"),
    ]
    nodes = [
        helper.make_node("ReduceMean", ["input.1"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "gain"], ["logit0"]),
        helper.make_node("Add", ["logit0", "bias"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["face_score"]),
    ]
    outputs = []
    for kind, arrays in (("score", masks), ("bbox", boxes), ("kps", kps)):
        for stride, array in zip(STRIDES, arrays, strict=True):
            const, out = f"{kind}_{stride}_const", f"{kind}_{stride}"
            initializers.append(numpy_helper.from_array(array, const))
            if kind == "score":
                nodes.append(helper.make_node("Mul", ["face_score", const], [out]))
            else:
                nodes.append(helper.make_node("Identity", [const], [out]))
            outputs.append(helper.make_tensor_value_info(out, TensorProto.FLOAT, list(array.shape)))
    graph = helper.make_graph(
        nodes,
        "tiny_scrfd",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, INPUT_PX, INPUT_PX])],
        outputs,
        initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny_buffalo")
    build_tiny_scrfd(folder / "det_tiny.onnx")
    build_tiny_arcface(folder / "w600k_tiny.onnx")
    return folder


@pytest.fixture(scope="module")
def detector(pack: Path) -> InsightfacePackDetector:
    return InsightfacePackDetector(pack)


@pytest.fixture(scope="module")
def embedder(pack: Path) -> InsightfacePackEmbedder:
    return InsightfacePackEmbedder(pack)


@pytest.fixture(autouse=True)
def no_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    """insightface fetches a pack when ``name`` is not a folder; any such call fails these tests."""
    import insightface.app.face_analysis as face_analysis

    def refuse(*args: object, **kwargs: object) -> str:
        raise AssertionError(f"insightface tried to download {args}")

    monkeypatch.setattr(face_analysis, "ensure_available", refuse)


def _letterboxed_score(gray: int, height: int, width: int) -> float:
    """The tiny detector's score on a uniform image: insightface scales the long side to 64 px, pads with black,
    and feeds (x - 127.5) / 128."""
    scale = INPUT_PX / max(height, width)
    rows, cols = int(height * scale), int(width * scale)
    filled = rows * cols / INPUT_PX**2
    mean = filled * (gray - 127.5) / 128.0 + (1.0 - filled) * (-127.5 / 128.0)
    return float(_sigmoid(SCORE_GAIN * mean + SCORE_BIAS))


# --- detection through insightface's decoding ---------------------------------------------------------------------


def test_detector_returns_the_predicted_box_landmarks_and_score(detector: InsightfacePackDetector) -> None:
    image = np.full((96, 128, 3), 200, dtype=np.uint8)  # letterboxed to 64x48 (scale 0.5) in the 64x64 input
    faces = detector.detect(image)
    assert isinstance(detector, Detector) and detector.name == "insightface-pack"
    assert len(faces) == 1  # the stride-16 duplicate is removed by NMS, the stride-32 box is below threshold
    face = faces[0]
    np.testing.assert_allclose([face.box.x0, face.box.y0, face.box.x1, face.box.y1], FACE_BOX_INPUT / 0.5, atol=1e-4)
    assert face.landmarks5 is not None
    np.testing.assert_allclose(face.landmarks5, FACE_KPS_INPUT / 0.5, atol=1e-4)
    assert face.score == pytest.approx(_letterboxed_score(200, 96, 128), abs=1e-4)
    assert face.detector == "insightface-pack"


def test_detector_scales_boxes_back_to_a_real_photo(detector: InsightfacePackDetector, astronaut: np.ndarray) -> None:
    assert astronaut.shape[:2] == (512, 512)  # scale 64 / 512 = 0.125
    faces = detector.detect(astronaut)
    assert len(faces) == 1 and faces[0].score > 0.5
    np.testing.assert_allclose(faces[0].box.to_list(), FACE_BOX_INPUT / 0.125, atol=0.01)
    assert faces[0].landmarks5 is not None
    np.testing.assert_allclose(faces[0].landmarks5, FACE_KPS_INPUT / 0.125, atol=1e-3)


def test_detector_finds_nothing_below_its_threshold(detector: InsightfacePackDetector) -> None:
    assert _letterboxed_score(0, 64, 64) < 0.05
    assert detector.detect(np.zeros((64, 64, 3), dtype=np.uint8)) == []


def test_the_score_threshold_is_passed_to_insightface(pack: Path) -> None:
    gray = 100  # mean blob (100 - 127.5) / 128 -> score sigmoid(8 * -0.215 + 4) = 0.907
    image = np.full((64, 64, 3), gray, dtype=np.uint8)
    score = _letterboxed_score(gray, 64, 64)
    assert InsightfacePackDetector(pack, min_score=score - 0.01).detect(image)
    assert InsightfacePackDetector(pack, min_score=score + 0.01).detect(image) == []


# --- recognition through insightface's alignment ------------------------------------------------------------------


def _expected_embedding(pack: Path, image_rgb: np.ndarray, points: np.ndarray) -> np.ndarray:
    """onnxruntime on insightface's own aligned crop (norm_crop works on BGR; ArcFace takes RGB (x-127.5)/127.5)."""
    from insightface.utils.face_align import norm_crop

    with warnings.catch_warnings():  # norm_crop calls skimage's deprecated SimilarityTransform.estimate
        warnings.simplefilter("ignore", FutureWarning)
        crop_bgr = norm_crop(np.ascontiguousarray(image_rgb[..., ::-1]), landmark=points.astype(np.float32))
    blob = (crop_bgr[..., ::-1].astype(np.float32).transpose(2, 0, 1)[None] - 127.5) / 127.5
    session = ort.InferenceSession(str(pack / "w600k_tiny.onnx"), providers=["CPUExecutionProvider"])
    feature = session.run(None, {"data": blob})[0][0]
    return feature / np.linalg.norm(feature)


def test_embedder_matches_onnxruntime_on_insightfaces_aligned_crop(
    pack: Path, detector: InsightfacePackDetector, embedder: InsightfacePackEmbedder, astronaut: np.ndarray
) -> None:
    assert isinstance(embedder, Embedder)
    assert (embedder.name, embedder.dim) == ("insightface-pack", 512)
    assert embedder.match_threshold == pytest.approx(get_settings().arcface_match_threshold)
    faces = detector.detect(astronaut)
    shifted = Face(Box(100, 60, 300, 300), 0.9, landmarks5=faces[0].landmarks5 + np.array([-40.0, -50.0]))
    vectors = embedder.embed(astronaut, [faces[0], shifted])
    assert vectors.shape == (2, 512) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for vector, face in zip(vectors, [faces[0], shifted], strict=True):
        assert face.landmarks5 is not None
        np.testing.assert_allclose(vector, _expected_embedding(pack, astronaut, face.landmarks5), atol=1e-5)
    assert float(vectors[0] @ vectors[1]) < 0.99  # different crops give different vectors
    # Mien's own ArcFace backend aligns the same points onto the same template: the same vector, to rounding.
    mien = ArcFaceOnnxEmbedder(pack / "w600k_tiny.onnx").embed(astronaut, faces)
    assert float(mien[0] @ vectors[0]) > 0.999
    assert embedder.embed(astronaut, []).shape == (0, 512)


def test_faces_without_landmarks_get_them_from_the_packs_detector(
    detector: InsightfacePackDetector, embedder: InsightfacePackEmbedder, astronaut: np.ndarray
) -> None:
    found = detector.detect(astronaut)[0]
    # The box's surroundings (box x2, clipped) are rows 0-480 of the photo: letterboxed at the same 0.125 scale, so
    # the pack's detector puts the same landmarks there.
    box_only = Face(box=found.box, score=found.score)
    np.testing.assert_allclose(embedder.embed(astronaut, [box_only]), embedder.embed(astronaut, [found]), atol=1e-6)
    with pytest.raises(NoFaceError, match="finds no face there"):
        embedder.embed(np.zeros((128, 128, 3), dtype=np.uint8), [Face(Box(32, 32, 96, 96), 0.9)])


# --- registry and errors ------------------------------------------------------------------------------------------


def test_registries_report_the_configured_pack(pack: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entries: list[BackendEntry[Any]] = [
        next(e for e in DETECTORS.entries() if e.name == "insightface-pack"),
        next(e for e in EMBEDDERS.entries() if e.name == "insightface-pack"),
    ]
    monkeypatch.delenv("MIEN_INSIGHTFACE_PACK", raising=False)
    get_settings.cache_clear()
    for entry in entries:
        assert entry.ready() is False and "MIEN_INSIGHTFACE_PACK" in entry.weights() and not entry.default
    monkeypatch.setenv("MIEN_INSIGHTFACE_PACK", str(pack))
    get_settings.cache_clear()
    for entry in entries:
        assert entry.ready() is True and entry.weights() == str(pack)
    built_detector, built_embedder = entries[0].factory(), entries[1].factory()
    assert isinstance(built_detector, InsightfacePackDetector) and built_detector.pack_path == pack.resolve()
    assert isinstance(built_embedder, InsightfacePackEmbedder)
    assert built_embedder.model_file.name == "w600k_tiny.onnx"
    get_settings.cache_clear()


def test_missing_or_incomplete_packs_are_explained(pack: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MIEN_INSIGHTFACE_PACK", raising=False)
    get_settings.cache_clear()
    with pytest.raises(ModelUnavailableError, match="set MIEN_INSIGHTFACE_PACK"):
        InsightfacePackDetector()
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        InsightfacePackEmbedder(tmp_path / "buffalo_l")  # a pack name, not a folder: never downloaded
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelUnavailableError, match=r"no \.onnx model"):
        InsightfacePackDetector(tmp_path / "empty")
    build_tiny_arcface(tmp_path / "recognition_only" / "w600k_tiny.onnx")
    with pytest.raises(ModelUnavailableError, match=r"no face detection model .*w600k_tiny\.onnx"):
        InsightfacePackEmbedder(tmp_path / "recognition_only")
    build_tiny_scrfd(tmp_path / "detection_only" / "det_tiny.onnx")
    assert InsightfacePackDetector(tmp_path / "detection_only").detect(np.full((64, 64, 3), 200, np.uint8))
    with pytest.raises(ModelUnavailableError, match="no face recognition model"):
        InsightfacePackEmbedder(tmp_path / "detection_only")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "det.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelUnavailableError, match="insightface cannot load"):
        InsightfacePackDetector(tmp_path / "junk")

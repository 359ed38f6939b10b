"""The ONNX expression backend, checked on tiny ONNX models built by the tests (no trained model ships).

These tests cover the architecture code (loading from a folder, label mapping, preprocessing, batching, output
handling) with models whose outputs can be computed by hand; they say nothing about any trained model's accuracy.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from tools.errors import ConfigError, ModelUnavailableError
from tools.expression.backends import EXPRESSION_MODELS
from tools.expression.labels import BASIC_EMOTIONS
from tools.expression.onnx_model import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    LABEL_PRESETS,
    OnnxExpressionConfig,
    OnnxExpressionModel,
    label_columns,
)
from tools.faces.types import Box, Face

HSEMOTION_8 = LABEL_PRESETS["hsemotion-8"]


def build_classifier(
    path: Path, classes: int, side: int = 32, batch: int | str = "n", softmax: bool = False
) -> np.ndarray:
    """A tiny ONNX classifier: (batch, 3, side, side) -> global average pool -> linear -> [softmax]. Returns W (3, k)
    and writes the model to ``path``; its output for a uniform colour is computable by hand."""
    weights = np.array([[2.0, -1.0, 0.5] + [0.1 * i for i in range(classes - 3)],
                        [-1.0, 1.5, 0.0] + [-0.05 * i for i in range(classes - 3)],
                        [0.5, 0.0, -2.0] + [0.02 * i for i in range(classes - 3)]], dtype=np.float32)
    nodes = [helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
             helper.make_node("Flatten", ["pooled"], ["flat"]),
             helper.make_node("MatMul", ["flat", "w"], ["logits"])]
    output = "logits"
    if softmax:
        nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], axis=1))
        output = "probs"
    graph = helper.make_graph(
        nodes, "tiny_expression",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [batch, 3, side, side])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, [batch, classes])],
        [helper.make_tensor("w", TensorProto.FLOAT, weights.shape, weights.flatten())],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return weights


def uniform_image(rgb: tuple[int, int, int]) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, dtype=np.uint8), (96, 96, 3)).copy()


def expected_basic(rgb: tuple[int, int, int], weights: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    """By hand: ImageNet-normalised colour -> logits -> softmax -> basic labels only, renormalised, our order."""
    x = (np.array(rgb) / 255.0 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    logits = x @ weights.astype(np.float64)
    p = np.exp(logits - logits.max())
    p /= p.sum()
    basic = np.array([p[next(i for i, name in enumerate(labels) if name.lower().startswith(e.lower()[:4]))]
                      for e in BASIC_EMOTIONS])
    return basic / basic.sum()


FACE = Face(box=Box(20, 20, 76, 76), score=1.0)


def test_hsemotion_style_model_loads_from_its_file_name_and_maps_its_labels(tmp_path: Path) -> None:
    weights = build_classifier(tmp_path / "enet_b0_8_best_afew.onnx", 8)
    model = OnnxExpressionModel.from_folder(tmp_path)
    assert model.config.labels == HSEMOTION_8 and model.input_size_px == 32
    rgb = (180, 120, 90)
    (probabilities,) = model.predict(uniform_image(rgb), [FACE])
    assert np.allclose(probabilities, expected_basic(rgb, weights, HSEMOTION_8), atol=1e-5)
    assert probabilities.sum() == pytest.approx(1.0)  # Contempt dropped, the rest renormalised


def test_labels_and_preprocessing_come_from_model_json(tmp_path: Path) -> None:
    labels = ("sad", "happy", "neutral", "surprised", "angry", "fearful", "disgusted")
    build_classifier(tmp_path / "custom.onnx", 7, softmax=True)
    (tmp_path / "model.json").write_text(json.dumps({"labels": list(labels), "mean": [0.5, 0.5, 0.5],
                                                     "std": [0.5, 0.5, 0.5], "output": "probabilities"}))
    model = OnnxExpressionModel.from_folder(tmp_path)
    raw = model.predict_raw(model.preprocess(np.broadcast_to(np.uint8(255), (1, 32, 32, 3))))
    assert raw.shape == (1, 7) and raw.sum() == pytest.approx(1.0, abs=1e-6)
    (probabilities,) = model.predict(uniform_image((255, 255, 255)), [FACE])
    assert probabilities[BASIC_EMOTIONS.index("Sadness")] == pytest.approx(raw[0, 0], abs=1e-6)
    assert probabilities[BASIC_EMOTIONS.index("Happiness")] == pytest.approx(raw[0, 1], abs=1e-6)


def test_a_fixed_batch_of_one_runs_face_by_face(tmp_path: Path) -> None:
    weights = build_classifier(tmp_path / "enet_b2_7.onnx", 7, batch=1)
    model = OnnxExpressionModel.from_folder(tmp_path)
    assert model.fixed_batch
    image = np.concatenate([uniform_image((250, 10, 10)), uniform_image((10, 10, 250))], axis=1)
    faces = [Face(box=Box(20, 20, 76, 76), score=1.0), Face(box=Box(116, 20, 172, 76), score=1.0)]
    out = model.predict(image, faces)
    assert out.shape == (2, 7)
    assert np.allclose(out[0], expected_basic((250, 10, 10), weights, LABEL_PRESETS["hsemotion-7"]), atol=1e-4)
    assert np.allclose(out[1], expected_basic((10, 10, 250), weights, LABEL_PRESETS["hsemotion-7"]), atol=1e-4)


def test_folders_without_a_usable_model_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="MIEN_EXPRESSION_ONNX_DIR"):
        OnnxExpressionModel.from_folder(None)
    with pytest.raises(ModelUnavailableError, match=r"exactly one \.onnx"):
        OnnxExpressionModel.from_folder(tmp_path)
    build_classifier(tmp_path / "mystery.onnx", 7)
    with pytest.raises(ConfigError, match=r"model\.json"):
        OnnxExpressionModel.from_folder(tmp_path)
    (tmp_path / "model.json").write_text(json.dumps({"labels": "nope"}))
    with pytest.raises(ConfigError, match="unknown label preset"):
        OnnxExpressionModel.from_folder(tmp_path)
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        OnnxExpressionModel.from_folder(tmp_path)
    (tmp_path / "mystery.onnx").write_bytes(b"not an onnx file")
    with pytest.raises(ModelUnavailableError, match="cannot load"):
        OnnxExpressionModel(tmp_path / "mystery.onnx", OnnxExpressionConfig(labels=HSEMOTION_8))


def test_labels_must_name_every_basic_emotion_once() -> None:
    assert label_columns(LABEL_PRESETS["fer"]) == [6, 0, 1, 2, 3, 4, 5]
    with pytest.raises(ConfigError, match="Surprise found 0 times"):
        label_columns(("angry", "disgust", "fear", "happy", "sad", "neutral", "contempt"))


def test_the_registry_entry_is_ready_once_a_folder_holds_a_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tools.settings import get_settings

    entry = next(e for e in EXPRESSION_MODELS.entries() if e.name == "onnx")
    monkeypatch.setenv("MIEN_EXPRESSION_ONNX_DIR", str(tmp_path))
    get_settings.cache_clear()
    assert not entry.ready()
    build_classifier(tmp_path / "enet_b0_8_best_vgaf.onnx", 8)
    assert entry.ready() and entry.weights() == str(tmp_path)

"""Geometric action-unit estimates: invariances, real photos, and controlled warps of real faces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from evals.mesh_warps import Displacement, close_eyes, lower_brows, raise_mouth_corners, warp_face
from tests.expression.photos import faces_in, fer_model, mesh_of, only_face, photo
from tools.errors import ConfigError, ModelUnavailableError
from tools.expression.action_units import (
    AU_NAMES,
    AU_RULES,
    MEASURES,
    POPULATION_MEASURES,
    GeometricMeasures,
    MeshGeometryAU,
    OnnxActionUnits,
    action_units_from_measures,
    check_mesh,
    estimate_action_units,
    measure_face,
    neutral_baseline,
)
from tools.expression.backends import AU_MODELS
from tools.expression.types import ActionUnits
from tools.faces.types import Box, Face

REQUIRED_AUS = ["AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU12", "AU15", "AU17", "AU20", "AU23", "AU25",
                "AU26", "AU45"]


def _rotation(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    y, p, r = np.radians([yaw_deg, pitch_deg, roll_deg])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return rz @ rx @ ry


def test_every_required_au_is_estimated_and_named_as_an_estimate() -> None:
    units = estimate_action_units(mesh_of(faces_in("astronaut")[0]))
    assert [u for u in REQUIRED_AUS if u not in units.names] == []
    assert units.kind == "geometric-estimate" and units.reference == "population"
    assert all(u.kind == "geometric-estimate" and 0.0 <= u.intensity <= 5.0 for u in units)
    payload = units.to_dict()
    assert payload["kind"] == "geometric-estimate" and payload["units"][0]["kind"] == "geometric-estimate"


def test_measures_do_not_depend_on_face_size_position_or_head_rotation() -> None:
    mesh = mesh_of(faces_in("astronaut")[0]).astype(np.float64)
    base = measure_face(mesh).values
    centre = mesh.mean(axis=0)
    moved = (mesh - centre) * 2.5 @ _rotation(25.0, -15.0, 20.0).T + centre + [40.0, -30.0, 5.0]
    assert np.allclose(measure_face(moved).values, base, atol=1e-9)
    assert measure_face(moved).iod_px == pytest.approx(measure_face(mesh).iod_px * 2.5)


def test_a_face_equal_to_its_reference_has_no_action() -> None:
    measures = measure_face(mesh_of(faces_in("astronaut")[0]))
    units = action_units_from_measures(measures, measures, "track-neutral")
    absolute = {r.au for r in AU_RULES if r.mode == "absolute"}  # lips part is read from the gap itself
    assert all(u.intensity == 0.0 for u in units if u.au not in absolute)
    assert units.reference == "track-neutral"


def test_the_astronauts_open_smile() -> None:
    units = estimate_action_units(mesh_of(faces_in("astronaut")[0]))
    assert units.intensity("AU12") >= 3.0  # lip corners pulled
    assert units.intensity("AU25") >= 2.0  # lips parted over the teeth
    assert units.intensity("AU6") >= 2.0  # cheeks raised
    assert units.intensity("AU4") < 1.0 and units.intensity("AU15") < 1.0 and units.intensity("AU45") < 1.0


def test_the_laughing_man_has_his_mouth_open_and_eyes_narrowed() -> None:
    units = estimate_action_units(mesh_of(faces_in("group")[3]))
    assert {"AU12", "AU25", "AU26", "AU7"} <= set(units.active(2.0))


def _aus_after(image: np.ndarray, displacement: Displacement) -> tuple[ActionUnits, ActionUnits, float, float]:
    """(AUs before, AUs after warping, Happiness before, after): meshes recomputed from the warped pixels."""
    face = only_face(image)
    warped = warp_face(image, mesh_of(face), displacement)
    warped_face = only_face(warped)
    happy_before, happy_after = (
        fer_model().predict(img, [f])[0][4] for img, f in ((image, face), (warped, warped_face))
    )
    return estimate_action_units(mesh_of(face)), estimate_action_units(mesh_of(warped_face)), happy_before, happy_after


@pytest.mark.parametrize("person", ["person1", "person0"])  # Monica and Rachel: closed-mouth, neutral
def test_raising_the_mouth_corners_raises_au12_and_happiness(person: str) -> None:
    before, after, happy_before, happy_after = _aus_after(photo(person), raise_mouth_corners(0.15))
    assert after.intensity("AU12") >= before.intensity("AU12") + 1.5
    assert happy_after >= happy_before + 0.1
    assert after.intensity("AU4") <= before.intensity("AU4") + 0.5


def test_a_raised_smile_turns_a_neutral_face_happy() -> None:
    image = photo("person1")
    warped = warp_face(image, mesh_of(only_face(image)), raise_mouth_corners(0.15))
    before, after = (fer_model().predict(img, [only_face(img)])[0] for img in (image, warped))
    assert int(np.argmax(before)) == 0 and int(np.argmax(after)) == 4  # Neutral -> Happiness


@pytest.mark.parametrize("name", ["astronaut", "person1"])
def test_lowering_the_brows_raises_au4(name: str) -> None:
    before, after, _, _ = _aus_after(photo(name), lower_brows(0.10))
    assert after.intensity("AU4") >= before.intensity("AU4") + 1.0
    assert after.intensity("AU1") <= before.intensity("AU1") and after.intensity("AU2") <= before.intensity("AU2")


@pytest.mark.parametrize("name", ["astronaut", "person1", "person2"])
def test_closing_the_eyes_raises_au45(name: str) -> None:
    image = photo(name)
    face = only_face(image)
    warped_face = only_face(warp_face(image, mesh_of(face), close_eyes(0.85)))
    before, after = estimate_action_units(mesh_of(face)), estimate_action_units(mesh_of(warped_face))
    assert after.intensity("AU45") >= before.intensity("AU45") + 0.5
    assert measure_face(mesh_of(warped_face))["eye_opening"] <= 0.75 * measure_face(mesh_of(face))["eye_opening"]


def test_neutral_baseline_uses_the_most_neutral_frames() -> None:
    rows = [GeometricMeasures(np.full(len(MEASURES), float(v)), 50.0) for v in (1, 2, 3, 4, 5, 6, 7, 8)]
    neutral = [0.1, 0.9, 0.2, 0.8, 0.3, 0.05, 0.0, 0.4]
    baseline = neutral_baseline(rows, neutral)  # top quarter: frames with 0.9 and 0.8 -> values 2 and 4
    assert np.allclose(baseline.values, 3.0)
    assert np.allclose(neutral_baseline(rows).values, 4.5)  # without probabilities: the median of all
    with pytest.raises(ValueError, match="one neutral probability per frame"):
        neutral_baseline(rows, neutral[:3])
    with pytest.raises(ValueError, match="at least one frame"):
        neutral_baseline([])


def test_bad_meshes_are_refused_and_faces_without_mesh_get_none() -> None:
    with pytest.raises(ValueError, match="no mesh"):
        check_mesh(None)
    with pytest.raises(ValueError, match=r"\(478, 3\)"):
        check_mesh(np.zeros((468, 3)))
    with pytest.raises(ValueError, match="NaN"):
        check_mesh(np.full((478, 3), np.nan))
    assert MeshGeometryAU().estimate(photo("astronaut"), [Face(box=Box(0, 0, 10, 10), score=1.0)]) == [None]


def test_population_reference_is_the_typical_face() -> None:
    units = action_units_from_measures(POPULATION_MEASURES)
    assert [u.au for u in units if u.intensity > 0 and u.au != "AU25"] == []
    assert units.names == AU_NAMES


def _tiny_au_model(path: Path, aus: int) -> np.ndarray:
    """A 2-layer ONNX 'AU model' (global average pool -> linear -> sigmoid) built here; returns its weights."""
    weights = np.linspace(-1.0, 1.0, 3 * aus, dtype=np.float32).reshape(3, aus)
    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["image"], ["pooled"]),
         helper.make_node("Flatten", ["pooled"], ["flat"]),
         helper.make_node("MatMul", ["flat", "w"], ["logits"]),
         helper.make_node("Sigmoid", ["logits"], ["aus"])],
        "tiny_au",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 3, 32, 32])],
        [helper.make_tensor_value_info("aus", TensorProto.FLOAT, ["n", aus])],
        [helper.make_tensor("w", TensorProto.FLOAT, weights.shape, weights.flatten())],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, path)
    return weights


def test_a_trained_au_model_slot_runs_an_onnx_model_from_a_folder(tmp_path: Path) -> None:
    """Architecture check only: the ONNX model is a tiny one this test builds, not a trained AU detector."""
    weights = _tiny_au_model(tmp_path / "au.onnx", 3)
    (tmp_path / "model.json").write_text(json.dumps(
        {"aus": ["AU6", "AU12", "AU25"], "input_size_px": 32, "output": "probability", "mean": [0, 0, 0],
         "std": [1, 1, 1]}
    ))
    backend = OnnxActionUnits.from_folder(tmp_path)
    colour = np.array([200, 100, 50], dtype=np.uint8)
    image = np.broadcast_to(colour, (64, 64, 3)).copy()
    (units,) = backend.estimate(image, [Face(box=Box(16, 16, 48, 48), score=1.0)])
    assert units is not None and units.kind == "model" and units.reference == "none"
    expected = 5.0 / (1.0 + np.exp(-(colour / 255.0) @ weights))
    assert np.allclose(units.intensities(), expected, atol=1e-5)
    assert units.names == ("AU6", "AU12", "AU25") and units.get("AU12").delta is None


def test_the_au_model_slot_says_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelUnavailableError, match="MIEN_AU_ONNX_DIR"):
        OnnxActionUnits.from_folder(None)
    with pytest.raises(ModelUnavailableError, match=r"exactly one \.onnx"):
        OnnxActionUnits.from_folder(tmp_path)
    _tiny_au_model(tmp_path / "au.onnx", 2)
    with pytest.raises(ConfigError, match=r"model\.json"):
        OnnxActionUnits.from_folder(tmp_path)
    (tmp_path / "model.json").write_text(json.dumps({"aus": ["AU1", "AU2"], "colour": "rgb"}))
    with pytest.raises(ConfigError, match="unknown keys"):
        OnnxActionUnits.from_folder(tmp_path)
    entry = next(e for e in AU_MODELS.entries() if e.name == "onnx")
    monkeypatch.setenv("MIEN_AU_ONNX_DIR", str(tmp_path))
    from tools.settings import get_settings

    get_settings.cache_clear()
    assert entry.ready() and entry.weights() == str(tmp_path)

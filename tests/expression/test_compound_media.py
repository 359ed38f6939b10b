"""Compound expressions of the people in real media: which modalities take part, and a well-formed result."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agent.cli import main
from evals.make_example import EXAMPLE_PATH
from tools.expression.analyze import analyze_emotions
from tools.expression.compound_media import compound_expressions
from tools.expression.labels import COMPOUND_EXPRESSIONS
from tools.media import save_image


def test_a_photo_has_only_the_static_face(tmp_path: Path, astronaut: np.ndarray) -> None:
    analysis = analyze_emotions(save_image(tmp_path / "a.png", astronaut))
    (item,) = compound_expressions(analysis)
    present = {m.modality for m in item.result.modalities if m.probabilities is not None}
    assert present == {"static_face"}
    assert item.result.top_basic == "Happiness"
    assert item.result.top_compound in {"Happily Surprised"}  # happiness pairs only with surprise
    assert float(item.result.compound.probabilities.sum()) == pytest.approx(1.0)


def test_a_scene_description_joins_as_its_own_modality(tmp_path: Path, astronaut: np.ndarray) -> None:
    analysis = analyze_emotions(save_image(tmp_path / "a.png", astronaut))
    (item,) = compound_expressions(analysis, scene_text="A terrified woman screams in horror.")
    scene = next(m for m in item.result.modalities if m.modality == "scene_text")
    assert scene.probabilities is not None
    assert int(np.argmax(scene.probabilities)) == 3  # Fear


@pytest.mark.slow
def test_the_example_clip_fuses_face_dynamics_voice_and_words(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["emotions", str(EXAMPLE_PATH), "--compound", "--json"]) == 0
    compounds = json.loads(capsys.readouterr().out)["compound"]
    assert [c["track_id"] for c in compounds] == [1, 2]
    for item in compounds:
        present = {m["modality"] for m in item["modalities"] if m["probabilities"] is not None}
        assert present == {"static_face", "dynamic_face", "audio", "transcript"}
        assert item["compound"]["top"] in COMPOUND_EXPRESSIONS

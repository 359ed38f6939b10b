"""The CER scene modality: a served vision model describes the frame, and the text modality reads the words."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agent.cli import main
from tests.agent.openai_stub import RecordingServer, StubReply
from tools.media import save_image
from tools.settings import get_settings

FRIGHT = "A terrified person screams in a dark, frightening corridor. The mood is fear and horror."


def _use(server: RecordingServer, monkeypatch: pytest.MonkeyPatch, vision: str) -> None:
    monkeypatch.setenv("MIEN_LLM_BASE_URL", server.base_url)
    monkeypatch.setenv("MIEN_AGENT_VISION", vision)
    monkeypatch.setenv("MIEN_AGENT_TOOL_CALLING", "router")
    get_settings.cache_clear()


def test_a_vision_model_describes_the_scene_for_cer(
    tmp_path: Path, astronaut: np.ndarray, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = save_image(tmp_path / "astronaut.png", astronaut)
    with RecordingServer(default=StubReply(FRIGHT)) as server:
        _use(server, monkeypatch, "on")
        assert main(["emotions", str(photo), "--compound", "--scene", "--json"]) == 0
        sent = server.requests[-1]["messages"][-1]["content"]
    assert any(part.get("type") == "image_url" for part in sent)  # the frame went to the model
    (item,) = json.loads(capsys.readouterr().out)["compound"]
    scene = next(m for m in item["modalities"] if m["modality"] == "scene_text")
    assert scene["probabilities"] is not None
    assert max(scene["probabilities"], key=scene["probabilities"].get) == "Fear"


def test_a_text_only_model_cannot_describe_a_scene(
    tmp_path: Path, astronaut: np.ndarray, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = save_image(tmp_path / "astronaut.png", astronaut)
    with RecordingServer(default=StubReply(FRIGHT)) as server:
        _use(server, monkeypatch, "off")
        assert main(["emotions", str(photo), "--compound", "--scene"]) == 2
    assert "does not accept images" in capsys.readouterr().err

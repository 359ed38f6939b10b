"""``mien personalize train|generate`` and the agent's ``personalize`` tool, end to end on the tiny random pipeline
(machinery only: its portraits are noise, so the identity metric honestly finds no face in them)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from agent.cli import main
from tools.langchain_tools import CAPABILITIES, build_tools
from tools.media import load_image
from tools.settings import get_settings


@pytest.mark.slow
def test_train_then_generate_from_the_cli(
    tiny_sd: Path, photos: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["personalize", "train", "Eileen", *map(str, photos), "--model", str(tiny_sd), "--steps", "2", "--json"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    saved = Path(report["file"])
    assert saved == get_settings().home / "personalize" / "eileen.safetensors" and saved.is_file()
    assert report["method"] == "id-ea" and report["steps"] == 2 and len(report["losses"]) == 2
    assert all(np.isfinite(report["losses"])) and report["seconds_per_step"] > 0
    assert report["photos"] == [str(p) for p in photos]
    assert report["file_bytes"] == saved.stat().st_size < 100_000  # one small file

    out = tmp_path / "portraits"
    args = ["personalize", "generate", "Eileen", "a photo of <eileen>", "--out", str(out), "--steps", "2", "-n", "2"]
    assert main([*args, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert [Path(f).name for f in result["files"]] == ["eileen-seed0-1.png", "eileen-seed0-2.png"]
    assert load_image(result["files"][0]).shape == (32, 32, 3)
    for score in result["scores"]:
        assert score["faces_found"] == 0
        dlib = next(r for r in score["recognizers"] if r["recognizer"] == "dlib-resnet")
        assert (dlib["similarity"], dlib["same_person"], dlib["note"]) == (None, None, "no face found")
    assert any("prompt fidelity not measured" in note for note in result["notes"])

    assert main(args) == 0  # the human-readable summary
    assert "dlib-resnet: no face found" in capsys.readouterr().out


def test_cli_bad_input_is_one_line_and_an_exit_code(
    tiny_sd: Path, photos: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["personalize", "train", "Eileen", *map(str, photos)]) == 5
    assert "no Stable Diffusion model is configured" in capsys.readouterr().err
    assert main(["personalize", "generate", "Nobody", "<nobody> in the snow", "--out", str(tmp_path)]) == 2
    assert "no such personalization file" in capsys.readouterr().err


def test_the_tool_says_when_no_model_is_configured(photos: list[Path]) -> None:
    assert "personalize" in CAPABILITIES
    (tool,) = build_tools(names=("personalize",))
    message = tool.invoke({"name": "personalize", "args": {"media": str(photos[0])}, "id": "1", "type": "tool_call"})
    finding = message.artifact
    assert finding["label"] == "no Stable Diffusion model configured" and finding["files"] == []
    assert "no portrait was generated: set MIEN_SD_MODEL" in finding["summary"]
    assert "No Stable Diffusion model is configured" in message.content  # what the model reads


@pytest.mark.slow
def test_the_tool_learns_and_generates_with_a_model(
    tiny_sd: Path, photos: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIEN_SD_MODEL", str(tiny_sd))
    get_settings.cache_clear()
    from tools.access import AccessPolicy, policy_scope

    (tool,) = build_tools(names=("personalize",))
    call = {"media": str(photos[0]), "prompt": "a photo of Eileen", "name": "Eileen", "steps": 2}
    with policy_scope(AccessPolicy.for_media([photos[0]], get_settings())):  # as in an agent's run
        message = tool.invoke({"name": "personalize", "args": call, "id": "1", "type": "tool_call"})
    finding = message.artifact
    assert finding["label"] == "1 portraits" and Path(finding["files"][0]).is_file()
    assert finding["facts"]["trained_now"] is True and finding["facts"]["method"] == "id-ea"
    assert finding["facts"]["identity"][0]["note"] == "no face found"
    assert "an estimate of likeness, not proof" in finding["summary"]


@pytest.mark.slow
def test_portrait_requests_route_to_the_tool() -> None:
    from agent.router import SemanticRouter
    from tools.text_embedding import get_text_embedder

    settings = get_settings()
    router = SemanticRouter(
        build_tools(settings, ("faces", "recognition", "emotions", "cloak", "personalize")),
        get_text_embedder().encode,
        settings.router_min_score,
        settings.router_margin,
    )
    photo = {"/data/me.jpg": {"image"}}
    asked = router.plan("Turn this photo of me into an oil painting that still looks like me.", list(photo), photo)
    assert asked.intent == "personalize" and [c["name"] for c in asked.tool_calls] == ["personalize"]
    assert router.plan("Who is this?", list(photo), photo).intent != "personalize"

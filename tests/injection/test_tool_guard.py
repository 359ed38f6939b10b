"""The path guard (``tools.access``): a model's tool call naming /etc/passwd or ~/.ssh is refused before anything
is opened, whichever argument carries the path, through ``..`` and symbolic links; legitimate calls still run.

A scripted model plays the model that obeyed the injection; the tools (deidentify, cloak) are the real ones. The
audit hook (``opened_files``) is the independent witness that /etc/passwd was never opened.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from langchain_core.messages import AIMessage

from agent.untrusted import MEDIA_TEXT_RULE
from tests.agent.scripted import CountingBrightnessTool, ScriptedChatModel
from tests.injection.harness import Agent, systems, tool_results
from tools.access import AccessPolicy, policy_scope
from tools.errors import AccessDeniedError, MediaError
from tools.langchain_tools import build_tools
from tools.media import load_image, save_image
from tools.settings import get_settings


def calls(*specs: tuple[str, dict[str, str]]) -> AIMessage:
    return AIMessage(
        content="",
        tool_calls=[
            {"name": name, "args": args, "id": f"call_{index}", "type": "tool_call"}
            for index, (name, args) in enumerate(specs)
        ],
    )


@pytest.fixture()
def photo(tmp_path: Path, astronaut: np.ndarray) -> str:
    return str(save_image(tmp_path / "astronaut.png", astronaut))


@pytest.mark.slow
@pytest.mark.timeout(300)  # a hang fails the test instead of stalling the suite
def test_malicious_tool_calls_are_refused_and_a_legitimate_one_runs(
    photo: str, user_home: Path, opened_files: list[str], isolated_home: Path, tmp_path: Path
) -> None:
    outputs = isolated_home / "deidentified"
    outputs.mkdir(parents=True)
    (outputs / "link").symlink_to(user_home / ".ssh", target_is_directory=True)  # a link out of the output folder
    attack = calls(
        ("deidentify_media", {"media": "/etc/passwd"}),
        ("cloak_faces", {"media": photo, "target": "/etc/passwd", "output": "~/.ssh/authorized_keys"}),
        ("deidentify_media", {"media": photo, "output": "~/.ssh/id_rsa.png"}),
        ("deidentify_media", {"media": photo, "output": str(outputs / ".." / ".." / "escaped.png")}),
        ("deidentify_media", {"media": photo, "output": str(outputs / "link" / "x.png")}),
        ("measure_brightness", {"media": photo}),  # the one allowed: the media in play
    )
    model = ScriptedChatModel(script=[attack, "done", "It is bright; the other requests were refused."])
    brightness = CountingBrightnessTool()
    tools = [*build_tools(get_settings(), ("deidentify", "cloak")), brightness.tool()]
    state = Agent(model, tools).ask("How bright is this photo?", [photo])

    results = [str(message.content) for message in tool_results(state)]
    assert len(results) == 6
    assert "'/etc/passwd' is not a media file in play" in results[0]
    assert "refused to let cloak_faces read target= /etc/passwd" in results[1]
    assert "refused to let deidentify_media write output= ~/.ssh/id_rsa.png" in results[2]
    assert "refused to let deidentify_media write output=" in results[3] and "escaped.png" in results[3]
    assert "refused to let deidentify_media write output=" in results[4] and "link/x.png" in results[4]
    assert not results[5].startswith("error:") and brightness.runs == 1
    assert [run["error"] is None for run in state["runs"]] == [False] * 5 + [True]

    assert not any("passwd" in path for path in opened_files)  # never opened, not even to be refused
    assert not (user_home / ".ssh").exists()
    assert not (tmp_path / "escaped.png").exists() and not (isolated_home.parent / "escaped.png").exists()
    assert [p.name for p in outputs.iterdir()] == ["link"]
    assert not (isolated_home / "cloaked").exists()
    assert all(MEDIA_TEXT_RULE in text for sent in model.received for text in systems(sent))


def test_inside_a_tool_run_the_readers_and_writers_refuse_other_paths(
    photo: str, user_home: Path, opened_files: list[str]
) -> None:
    policy = AccessPolicy.for_media([photo], get_settings())
    with policy_scope(policy):
        assert load_image(photo).shape == (512, 512, 3)  # the media in play reads
        with pytest.raises(AccessDeniedError, match=r"refused to read /etc/passwd: it is not a media file in play"):
            load_image("/etc/passwd")
        with pytest.raises(AccessDeniedError, match=r"refused to write .*\.ssh/x\.png: tools write only into"):
            save_image(user_home / ".ssh" / "x.png", np.zeros((16, 16, 3), np.uint8))
        written = save_image(get_settings().home / "cloaked" / "ok.png", np.zeros((16, 16, 3), np.uint8))
        assert written.is_file()
    assert not any("passwd" in path for path in opened_files)
    assert not (user_home / ".ssh").exists()
    with pytest.raises(MediaError, match="not a readable image"):  # outside a run the user names the files
        load_image("/etc/passwd")


def test_a_tool_invoked_directly_under_a_policy_vets_its_arguments(photo: str, user_home: Path) -> None:
    (cloak,) = build_tools(get_settings(), ("cloak",))
    policy = AccessPolicy.for_media([photo], get_settings())
    with policy_scope(policy), pytest.raises(AccessDeniedError, match=r"write output= ~/\.ssh/k\.png"):
        cloak.invoke({"media": photo, "output": "~/.ssh/k.png"})
    assert not (user_home / ".ssh").exists()

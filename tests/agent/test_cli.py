"""``mien ask`` and ``mien chat`` as a user runs them: exit codes and one-line errors, JSON for scripts, the
embedded server started on demand and gone afterwards, a chat that resumes its thread."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from agent.cli import main
from tests.agent.openai_stub import RecordingServer, StubReply
from tools.settings import get_settings


def our_servers() -> list[str]:
    """Command lines of embedded chat servers started by this process that are still running."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "servers.local" in cmdline and f"--parent-pid {os.getpid()} " in cmdline + " ":
            found.append(cmdline)
    return found


def test_unreadable_media_is_one_line_and_exit_code_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    assert main(["ask", str(broken), "How many people?"]) == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith("mien: error:") and "broken.mp4" in err and "\n" not in err
    assert our_servers() == []  # refused before any model was started


def test_an_unknown_privacy_mode_is_refused(group_jpg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", group_jpg, "How many people?", "--privacy", "public"]) == 2
    assert "unknown privacy mode 'public'" in capsys.readouterr().err


def test_an_endpoint_that_is_down_is_exit_code_8(group_jpg: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", group_jpg, "How many people?", "--model", "http://127.0.0.1:9"]) == 8
    assert "cannot reach the chat model at http://127.0.0.1:9/v1" in capsys.readouterr().err


@pytest.mark.slow
def test_ask_starts_the_embedded_model_answers_in_json_and_stops_it(
    group_jpg: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIEN_AGENT_ANSWER_MAX_TOKENS", "24")
    get_settings.cache_clear()
    assert main(["ask", group_jpg, "How many people are in this photo?", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["label"] == "6 people"
    assert answer["tools"][0]["tool"] == "find_faces" and answer["thread"]
    assert answer["explanation"]
    assert our_servers() == []


@pytest.mark.slow
def test_chat_streams_answers_and_resumes_its_thread(
    group_jpg: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with RecordingServer(default=StubReply("Six faces were found.")) as server:
        monkeypatch.setenv("MIEN_LLM_BASE_URL", server.base_url)
        monkeypatch.setenv("MIEN_AGENT_TOOL_CALLING", "router")
        monkeypatch.setenv("MIEN_AGENT_VISION", "off")
        monkeypatch.setenv("MIEN_AGENT_STRUCTURED_ANSWERS", "off")  # the stub answers in prose, not the JSON
        get_settings.cache_clear()
        monkeypatch.setattr("sys.stdin", io.StringIO("How many people are in this photo?\n\n"))
        assert main(["chat", group_jpg, "--thread", "party"]) == 0
        first = capsys.readouterr()
        monkeypatch.setattr("sys.stdin", io.StringIO("Why do you say so?\nexit\n"))
        assert main(["chat", group_jpg, "--thread", "party"]) == 0
        second = capsys.readouterr()
    assert "Six faces were found." in first.out and "Label: 6 people" in first.out
    assert "find_faces" in first.err  # the tool run was shown
    assert "you> How many people are in this photo?" in second.out  # the resumed thread's history
    assert second.out.count("Label: 6 people") == 1 and "find_faces" not in second.err  # answered from evidence

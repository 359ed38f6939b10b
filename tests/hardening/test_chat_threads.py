"""Two ``mien chat`` processes on one ``--thread`` at the same time (real processes, a stub model that answers
slowly so the turns overlap): every question of both is in the thread afterwards, once, with its answer.

Without the per-thread turn lock (``agent.thread_lock``) both processes built on the same checkpoint and the
later write hid the other's turns."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from evals import samples
from tests.agent.openai_stub import RecordingServer, StubReply
from tests.hardening.processes import server_env

pytestmark = pytest.mark.slow


def _chat(home: Path, url: str, questions: list[str], name: str) -> subprocess.Popen[str]:
    env = server_env(
        home, llm_base_url=url, agent_tool_calling="router", agent_vision="off", agent_structured_answers="off"
    )
    typed = home.parent / f"{name}.txt"
    typed.write_text("".join(q + "\n" for q in questions) + "exit\n")
    with typed.open() as stdin:
        return subprocess.Popen(
            [sys.executable, "-m", "agent.cli", "chat", str(samples.group_photo_path()), "--thread", "shared"],
            env=env, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip


def _thread_turns(home: Path) -> list[tuple[str, str]]:
    """The thread's latest checkpoint, read straight from the checkpoint database: its human messages and final
    answers, in order, as ("human"|"answer", text)."""
    import sqlite3

    from langgraph.checkpoint.sqlite import SqliteSaver

    with sqlite3.connect(home / "threads.sqlite", check_same_thread=False) as db:
        saved = SqliteSaver(db).get_tuple({"configurable": {"thread_id": "shared"}})
    assert saved is not None
    turns = []
    for message in saved.checkpoint["channel_values"]["messages"]:
        if message.type == "human":
            turns.append(("human", str(message.content)))
        elif message.type == "ai" and not getattr(message, "tool_calls", None):
            turns.append(("answer", str(message.content)))
    return turns


def test_two_chat_processes_on_one_thread_keep_every_turn(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first = ["How many people are in this photo?", "Are they smiling?"]
    second = ["Is anyone wearing glasses?", "Is it indoors?"]
    with RecordingServer(default=StubReply("Six faces were found.", delay_s=0.8)) as stub:
        runs = [_chat(home, stub.base_url, first, "first"), _chat(home, stub.base_url, second, "second")]
        outputs = [run.communicate(timeout=400) for run in runs]
    for run, (_, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err[-2000:]
        assert "error" not in err.lower(), err[-2000:]
    turns = _thread_turns(home)
    asked = [text for kind, text in turns if kind == "human"]
    assert sorted(asked) == sorted(first + second), turns  # all four questions, none twice
    assert [kind for kind, _ in turns] == ["human", "answer"] * 4, turns  # each answered, before the next question
    for questions in (first, second):  # each process's own questions in the order it asked them
        assert [q for q in asked if q in questions] == questions

"""``mien ask MEDIA "question"``: one question about a file, answered by the agent, then exit."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import typer

from agent.cli.answer_view import TurnView
from agent.cli.output import console, emit_json, err_console
from agent.failures import raise_for_answer
from agent.service.client import AskSession
from agent.service.lifecycle import service_session
from agent.service.resident import resident_session
from agent.session import PRIVACY_MODES, AgentSession, new_thread_id
from agent.state import PrivacyMode
from tools.errors import ConfigError
from tools.media import probe_media
from tools.settings import Settings, get_settings


def checked_privacy(privacy: str | None) -> PrivacyMode | None:
    if privacy is None:
        return None
    if privacy not in PRIVACY_MODES:
        raise ConfigError(f"unknown privacy mode {privacy!r}; choose one of {', '.join(PRIVACY_MODES)}")
    return privacy  # type: ignore[return-value]


def ask(
    media: Path = typer.Argument(..., help="Image, video or audio file the question is about."),
    question: str = typer.Argument(..., help="The question, in quotes."),
    as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON for scripts."),
    model: str | None = typer.Option(
        None, "--model", help="OpenAI-compatible endpoint URL (default: MIEN_LLM_BASE_URL, else the embedded model)."
    ),
    privacy: str | None = typer.Option(
        None, "--privacy", help="local | deidentified (faces blurred, names replaced, no voice sent to the model)."
    ),
    thread: str | None = typer.Option(None, "--thread", help="Continue this conversation thread."),
) -> None:
    """Answer one question about MEDIA, citing the evidence the tools measured."""
    settings = get_settings()
    mode = checked_privacy(privacy)
    probe_media(media, settings)  # an unreadable file fails here, before a model is started
    thread_id = thread or new_thread_id()
    with contextlib.ExitStack() as stack:
        session = open_session(stack, settings, model, quiet=as_json)
        if as_json:
            answer = session.ask(question, [media], thread_id, mode)
            emit_json({"thread": thread_id, **answer.to_dict()})
        else:
            view = TurnView(console, err_console)
            answer = session.ask(question, [media], thread_id, mode, on_token=view.on_token, on_tool=view.on_tool)
            view.finish(answer)
            err_console.print(
                f"[dim]thread {thread_id}; continue with: mien chat {media} --thread {thread_id}[/]", soft_wrap=True
            )
    raise_for_answer(answer)  # a failed tool: exit 9 naming it; a failed model: exit 8


def open_session(stack: contextlib.ExitStack, settings: Settings, model: str | None, quiet: bool) -> AskSession:
    """Open the agent session on ``stack``: in the resident service when it can answer (``MIEN_SERVICE``, started
    on first use), else in this process (the embedded server, if started, stops when the stack closes). Run by
    the service itself (``/v1/run``), the service's own session."""
    resident = resident_session()
    if resident is not None and model is None:
        return resident
    spinner: contextlib.AbstractContextManager[Any] = (
        contextlib.nullcontext() if quiet else err_console.status("starting the chat model and tools…", spinner="dots")
    )
    with spinner:
        remote = service_session(settings, model)
        if remote is not None:
            stack.callback(remote.client.close)
            return remote
        return stack.enter_context(AgentSession.open(settings, model))


def register(app: typer.Typer) -> None:
    app.command("ask")(ask)

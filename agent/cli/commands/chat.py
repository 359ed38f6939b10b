"""``mien chat MEDIA [--thread ID]``: a conversation about a file; answers stream, tools show as they run.

Threads persist (``<home>/threads.sqlite``): ``--thread ID`` resumes one, and its earlier turns are shown first.
An error in one turn (a file, the model) is printed and the conversation goes on.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer
from rich.markup import escape
from rich.prompt import Prompt

from agent.cli.answer_view import TurnView
from agent.cli.commands.ask import checked_privacy, open_session
from agent.cli.output import console, err_console
from agent.session import new_thread_id
from tools.errors import MienError
from tools.media import probe_media
from tools.settings import get_settings

QUIT_WORDS = {"exit", "quit", "/exit", "/quit", ":q"}


def chat(
    media: Path = typer.Argument(..., help="Image, video or audio file to talk about."),
    thread: str | None = typer.Option(None, "--thread", help="Resume this conversation thread."),
    model: str | None = typer.Option(None, "--model", help="OpenAI-compatible endpoint URL (default: embedded)."),
    privacy: str | None = typer.Option(None, "--privacy", help="local | deidentified."),
) -> None:
    """Talk about MEDIA: ask, follow up, ask again. Empty line, 'exit' or Ctrl-D ends."""
    settings = get_settings()
    mode = checked_privacy(privacy)
    probe_media(media, settings)
    thread_id = thread or new_thread_id()
    with contextlib.ExitStack() as stack:
        session = open_session(stack, settings, model, quiet=False)
        for question, answer_text in session.history(thread_id):
            console.print(f"[bold]you>[/] {escape(question)}\n[dim]{escape(answer_text)}[/]")
        console.print(f"[dim]thread {thread_id}: ask about {media.name}; empty line or 'exit' to leave[/]")
        view = TurnView(console, err_console)
        while True:
            try:
                question = Prompt.ask("[bold]you[/]", console=console, default="", show_default=False)
            except EOFError:
                break
            if not question.strip() or question.strip().lower() in QUIT_WORDS:
                break
            try:
                answer = session.ask(question, [media], thread_id, mode, on_token=view.on_token, on_tool=view.on_tool)
            except MienError as error:
                err_console.print(f"[red]error:[/] {escape(str(error))}")
                continue
            view.finish(answer)
    err_console.print(f"[dim]resume with: mien chat {media} --thread {thread_id}[/]", soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("chat")(chat)

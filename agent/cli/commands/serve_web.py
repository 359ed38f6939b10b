"""``mien serve web``: the page where people upload a video, image or audio file and chat about it.

Answers stream as server-sent events; each turn shows the tools that ran, the annotated key frames, and beside the
video the emotion timeline, transcript, spotted intervals and identities. Threads persist in the same SQLite store
as ``mien chat``. Listens on 127.0.0.1 unless told otherwise: the page has no login of its own.
"""

from __future__ import annotations

import typer

from agent.cli.commands.serve import serve_app
from tools.settings import get_settings


def serve_web(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int | None = typer.Option(None, "--port", help="Port (default: MIEN_WEB_PORT, 8790)."),
) -> None:
    """Serve the chat page for media files at http://HOST:PORT/."""
    from servers.web.app import create_app, serve

    settings = get_settings()
    port = port or settings.web_port
    typer.echo(f"serving the Mien page on http://{host}:{port}/ (data folder {settings.home})")
    serve(create_app(settings), host=host, port=port)


def register(app: typer.Typer) -> None:
    serve_app.command("web")(serve_web)

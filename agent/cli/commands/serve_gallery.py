"""``mien serve gallery``: run the encrypted gallery server (``servers.gallery``) in this process.

The server keeps CKKS ciphertexts and the key owner's public context in one SQLite file and never holds a
secret key; clients use ``mien gallery --encrypted --server URL --keys DIR``.
"""

from __future__ import annotations

from pathlib import Path

import typer

from agent.cli.commands.serve import serve_app
from tools.settings import get_settings


def serve_gallery(
    store: Path | None = typer.Option(
        None, "--store", help="SQLite file of the encrypted gallery (default: MIEN_HOME/gallery-server/gallery.sqlite)."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int | None = typer.Option(None, "--port", help="Port (default: MIEN_GALLERY_SERVER_PORT, 8765)."),
) -> None:
    """Serve an encrypted face gallery: it stores and multiplies ciphertexts and can decrypt nothing."""
    from servers.gallery.app import create_app, serve

    settings = get_settings()
    path = store or settings.home / "gallery-server" / "gallery.sqlite"
    serve(create_app(path), host=host, port=port or settings.gallery_server_port)


def register(app: typer.Typer) -> None:
    serve_app.command("gallery")(serve_gallery)

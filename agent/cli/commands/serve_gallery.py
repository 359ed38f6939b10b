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
    tls_cert: Path | None = typer.Option(None, "--tls-cert", help="PEM certificate: serve HTTPS (with --tls-key)."),
    tls_key: Path | None = typer.Option(None, "--tls-key", help="PEM private key of --tls-cert."),
) -> None:
    """Serve an encrypted face gallery: it stores and multiplies ciphertexts and can decrypt nothing.

    When the API key file holds keys (`mien keys add`), searching needs an `identify` key and enrolling or
    removing an `enroll` key; without keys it serves loopback only (docs/security.md)."""
    from servers.gallery.app import create_app, serve
    from servers.security import TlsFiles

    settings = get_settings()
    path = store or settings.home / "gallery-server" / "gallery.sqlite"
    tls = TlsFiles.from_options(tls_cert, tls_key)
    serve(create_app(path), host=host, port=port or settings.gallery_server_port, tls=tls)


def register(app: typer.Typer) -> None:
    serve_app.command("gallery")(serve_gallery)

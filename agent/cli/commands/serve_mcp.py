"""``mien serve mcp``: every Mien tool as an MCP tool (official SDK), over stdio or streamable HTTP.

stdio is what desktop assistants and IDEs launch (``mien serve mcp`` as the server command); HTTP serves
``http://HOST:PORT/mcp``. Paths in tool arguments must lie in the data folder (``--data-dir``, else
``MIEN_DATA_DIR``, else ``MIEN_HOME/data``).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import typer

from agent.cli.commands.serve import serve_app
from tools.errors import ConfigError
from tools.settings import get_settings


def serve_mcp(
    transport: str = typer.Option("stdio", "--transport", help="stdio | http (streamable HTTP at /mcp)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (http)."),
    port: int | None = typer.Option(None, "--port", help="Port (http; default: MIEN_MCP_PORT, 8770)."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="The only folder tools may read and write (default: MIEN_DATA_DIR, MIEN_HOME/data)."
    ),
) -> None:
    """Serve Mien's tools (faces, identify, emotions, transcribe, de-identify, cloak, ...) over MCP."""
    import anyio

    from servers.mcp.server import create_app, create_server, serve_stdio
    from servers.uvicorn_run import run_app

    if transport not in ("stdio", "http"):
        raise ConfigError(f"unknown transport {transport!r}; choose stdio or http")
    if data_dir is not None:
        os.environ["MIEN_DATA_DIR"] = str(data_dir.expanduser().resolve())
        get_settings.cache_clear()
    settings = get_settings()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    if transport == "stdio":
        anyio.run(serve_stdio, create_server(settings))
        return
    chosen = port or settings.mcp_port
    print(f"serving MCP on http://{host}:{chosen}/mcp (data folder {settings.resolved_data_dir})", file=sys.stderr)
    run_app(create_app(settings, host=host), host=host, port=chosen)


def register(app: typer.Typer) -> None:
    serve_app.command("mcp")(serve_mcp)

"""``mien serve agent``: the agent as an OpenAI-compatible endpoint, for chat front-ends (Open WebUI and the like).

Point a client at ``http://HOST:PORT/v1`` with model ``mien-agent``; attach the media as image/video/audio/file
content parts or name files in the data folder. The chat model behind the agent is the one ``mien ask`` would use
(``--model URL``, ``MIEN_LLM_BASE_URL``, else the embedded one, started with the server).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import typer

from agent.cli.commands.serve import serve_app
from tools.settings import get_settings


def serve_agent(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int | None = typer.Option(None, "--port", help="Port (default: MIEN_AGENT_API_PORT, 8080)."),
    model: str | None = typer.Option(
        None, "--model", help="Chat model endpoint behind the agent (default: MIEN_LLM_BASE_URL, else embedded)."
    ),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="The only folder media are read from and stored in (default: MIEN_DATA_DIR)."
    ),
) -> None:
    """Serve the agent at /v1/chat/completions (streaming and not) and /v1/models, answers with evidence."""
    from servers.agent_api.app import create_app
    from servers.uvicorn_run import run_app

    if data_dir is not None:
        os.environ["MIEN_DATA_DIR"] = str(data_dir.expanduser().resolve())
        get_settings.cache_clear()
    settings = get_settings()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    chosen = port or settings.agent_api_port
    typer.echo(
        f"serving the Mien agent on http://{host}:{chosen}/v1 as model mien-agent (data folder "
        f"{settings.resolved_data_dir}); the chat model starts first",
        err=True,
    )
    run_app(create_app(settings, model), host=host, port=chosen)


def register(app: typer.Typer) -> None:
    serve_app.command("agent")(serve_agent)

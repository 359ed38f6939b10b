"""The web page's FastAPI app (``mien serve web``): ``create_app(settings)`` is the one way to build it.

Other layers (auth, limits) wrap the returned app or add middleware to it; the app keeps its state in
``app.state.web`` (a ``WebServing``) and closes the agent session when the server stops.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from servers.security import guard_agent_server, web_route_scope
from servers.uvicorn_run import run_app
from servers.web.api_router import install_error_handlers, router
from servers.web.serving import SessionOpener, WebServing
from tools.settings import Settings, get_settings


def create_app(settings: Settings | None = None, session_opener: SessionOpener | None = None) -> FastAPI:
    """An app serving the page on ``settings`` (default: the environment's); uploads land in the data folder's
    ``uploads/`` (``MIEN_DATA_DIR``, default ``<home>/data``). ``session_opener`` replaces how the agent session
    is opened (default: the configured chat endpoint, the embedded model when none is set)."""
    serving_settings = settings or get_settings()
    serving = WebServing(serving_settings, session_opener)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            serving.close()

    app = FastAPI(title="Mien web", lifespan=lifespan)
    app.state.web = serving
    app.include_router(router)
    install_error_handlers(app)
    # API keys (agent scope, when the key file holds any), body and concurrency limits, the bind check: G's
    # servers.security (docs/security.md).
    guard_agent_server(app, serving_settings, "web server", route_scopes=web_route_scope, count_chunked=False)
    return app


def serve(app: FastAPI, *, host: str = "127.0.0.1", port: int = 8790, sock: socket.socket | None = None) -> None:
    """Run ``app`` with uvicorn until interrupted (on ``sock`` if given, already bound)."""
    run_app(app, host=host, port=port, sock=sock)

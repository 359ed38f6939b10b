"""The gallery server's FastAPI app, and running it with uvicorn."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from servers.gallery.api_router import install_error_handlers, router
from servers.gallery.serving import GalleryServing
from servers.uvicorn_run import run_app


def create_app(store_path: Path) -> FastAPI:
    """An app serving the encrypted gallery in ``store_path`` (created by the first client that enrolls).

    The gallery is opened at once, so a damaged file, or one that holds a secret key, fails here and not on the
    first request."""
    serving = GalleryServing(store_path)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            serving.close()

    app = FastAPI(title="Mien encrypted gallery server", lifespan=lifespan)
    app.state.gallery = serving
    app.include_router(router)
    install_error_handlers(app)
    return app


def serve(app: FastAPI, *, host: str = "127.0.0.1", port: int = 8765, sock: socket.socket | None = None) -> None:
    """Run ``app`` with uvicorn until interrupted (on ``sock`` if given, already bound)."""
    run_app(app, host=host, port=port, sock=sock)

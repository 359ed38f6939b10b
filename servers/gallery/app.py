"""The gallery server's FastAPI app, and running it with uvicorn."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from servers.gallery.api_router import install_error_handlers, route_scope, router
from servers.gallery.serving import GalleryServing
from servers.security import GuardPolicy, TlsFiles, install_guard, server_policy
from servers.uvicorn_run import run_app
from tools.settings import Settings, get_settings


def gallery_policy(settings: Settings | None = None) -> GuardPolicy:
    """API keys (``identify`` to search, ``enroll`` to change), body limit and concurrency from the settings."""
    settings = settings or get_settings()
    return server_policy(settings, route_scope, max_body_mb=settings.gallery_max_body_mb, scopes=("identify", "enroll"))


def create_app(store_path: Path, policy: GuardPolicy | None = None) -> FastAPI:
    """An app serving the encrypted gallery in ``store_path`` (created by the first client that enrolls), behind
    ``policy`` (None: ``gallery_policy()`` from the settings).

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
    app.state.server_name = "gallery server"
    app.state.gallery = serving
    app.state.policy = policy or gallery_policy()
    app.include_router(router)
    install_error_handlers(app)
    install_guard(app, app.state.policy)
    return app


def serve(
    app: FastAPI,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    sock: socket.socket | None = None,
    tls: TlsFiles | None = None,
) -> None:
    """Run ``app`` with uvicorn until interrupted (on ``sock`` if given, already bound); refuses a non-loopback
    ``host`` when the app requires no API keys."""
    run_app(app, host=host, port=port, sock=sock, tls=tls)

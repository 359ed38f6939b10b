"""The embedded server's FastAPI app, and running it with uvicorn.

The model starts loading when the app starts (on the service's worker thread), so the port answers ``/health``
(``loading``) at once and a client can tell a slow start from a dead server.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from servers.local.api_router import install_error_handlers, router
from servers.local.catalog import embedded_model_path, embedded_served_name
from servers.local.loading import ModelSource, dequantized_cache_root
from servers.local.serving import ChatService, ServiceLimits
from servers.security import GuardPolicy, TlsFiles, install_guard, openai_error_body, server_policy
from servers.uvicorn_run import run_app
from tools.settings import Settings, get_settings

log = logging.getLogger(__name__)


def default_limits() -> ServiceLimits:
    settings = get_settings()
    return ServiceLimits(
        threads=settings.llm_threads,
        max_queue=settings.llm_max_queue,
        default_max_tokens=settings.llm_max_new_tokens,
        runtime=settings.llm_runtime,
        context_tokens=settings.llm_context_tokens,
    )


def chat_route_scope(method: str, path: str) -> str | None:
    """Every route but ``/health`` needs a ``chat`` key (when the server requires keys)."""
    return None if path == "/health" else "chat"


def chat_policy(settings: Settings | None = None) -> GuardPolicy:
    """API keys (``chat`` scope), body limit and concurrency from the settings, errors in OpenAI's shape."""
    settings = settings or get_settings()
    return server_policy(
        settings, chat_route_scope, max_body_mb=settings.llm_max_body_mb, error_body=openai_error_body, scopes=("chat",)
    )


def create_app(
    model_path: Path | None = None,
    *,
    served_name: str | None = None,
    limits: ServiceLimits | None = None,
    cache_root: Path | None = None,
    policy: GuardPolicy | None = None,
) -> FastAPI:
    """An app serving ``model_path`` (None: ``settings.llm_model_path``, else the packaged model that
    ``MIEN_LLM_EMBEDDED`` names); a GGUF's
    dequantized copy is kept under ``cache_root`` (None: ``<MIEN_HOME>/cache/llm``).

    Raises ``ConfigError`` / ``ModelUnavailableError`` at once when the path is wrong; the weights themselves load
    in the background after startup. ``policy`` (``chat_policy()`` for a server people reach) adds API keys and
    limits; None serves without them, as the agent's own embedded server does (on loopback, for this user)."""
    if model_path is None:
        model_path = embedded_model_path(get_settings())
        served_name = served_name or embedded_served_name(get_settings())
    source = ModelSource.resolve(model_path, served_name)
    service = ChatService(source, limits or default_limits(), cache_root or dequantized_cache_root(get_settings()))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        service.start_loading()
        try:
            yield
        finally:
            service.shutdown()

    app = FastAPI(title="Mien chat model server", lifespan=lifespan)
    app.state.server_name = "chat model server"
    app.state.chat_service = service
    app.include_router(router)
    install_error_handlers(app)
    app.state.policy = policy
    if policy is not None:
        install_guard(app, policy)
    return app


def serve(
    app: FastAPI,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    sock: socket.socket | None = None,
    tls: TlsFiles | None = None,
) -> None:
    """Run ``app`` with uvicorn until interrupted (on ``sock`` if given, already bound); refuses a non-loopback
    ``host`` for an app without API keys."""
    run_app(app, host=host, port=port, sock=sock, tls=tls)

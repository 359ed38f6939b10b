"""Running a FastAPI app with uvicorn, the same way for every Mien server."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from fastapi import FastAPI

if TYPE_CHECKING:
    from servers.security.bind import TlsFiles


def run_app(
    app: FastAPI,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    sock: socket.socket | None = None,
    tls: TlsFiles | None = None,
) -> None:
    """Run ``app`` until interrupted, on ``sock`` if given (already bound, so the caller knows the port) else on
    host:port, giving in-flight requests 5 s to finish on shutdown; HTTPS when ``tls`` names a certificate and
    key (uvicorn's ``ssl_certfile`` / ``ssl_keyfile``).

    Before listening, the bind is checked against the app's ``app.state.policy`` (``servers.security``): a
    non-loopback ``host`` is refused unless the app requires API keys."""
    import uvicorn

    from servers.security import check_bind, prepare_to_listen

    policy = getattr(app.state, "policy", None)
    name = str(getattr(app.state, "server_name", app.title))
    if policy is not None:
        prepare_to_listen(policy, host, tls, name)
    elif sock is None:
        check_bind(host, authenticating=False, tls=tls, server=name)

    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="info",
        timeout_graceful_shutdown=5,
        ssl_certfile=str(tls.certfile) if tls is not None else None,
        ssl_keyfile=str(tls.keyfile) if tls is not None else None,
    )
    uvicorn.Server(config).run(sockets=[sock] if sock is not None else None)

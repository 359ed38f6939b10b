"""Running a FastAPI app with uvicorn, the same way for every Mien server."""

from __future__ import annotations

import socket

from fastapi import FastAPI


def run_app(app: FastAPI, *, host: str = "127.0.0.1", port: int = 0, sock: socket.socket | None = None) -> None:
    """Run ``app`` until interrupted, on ``sock`` if given (already bound, so the caller knows the port) else on
    host:port, giving in-flight requests 5 s to finish on shutdown."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock] if sock is not None else None)

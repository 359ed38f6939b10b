"""The service process itself: take the single-instance lock, bind the private socket, serve until idle or told.

Run as ``python -m agent.service`` (``agent.service.lifecycle.start_service`` spawns it detached). Order matters:
the pid-file lock is taken first, so a socket file found afterwards is provably stale (its server would hold the
lock) and is removed; the socket is bound with umask 0o177 so it is never reachable by others, even briefly.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket

from agent.service.app import create_app
from agent.service.locks import try_lock
from agent.service.paths import ServicePaths, service_paths
from agent.service.serving import ServiceState
from tools.settings import Settings, get_settings

log = logging.getLogger(__name__)

EXIT_ALREADY_RUNNING = 3


def bind_private_socket(path: os.PathLike[str] | str) -> socket.socket:
    """A listening unix socket at ``path`` with mode 0o600."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o177)
    try:
        sock.bind(str(path))
    finally:
        os.umask(previous)
    os.chmod(path, 0o600)
    sock.listen(64)
    return sock


def run_service(settings: Settings | None = None, paths: ServicePaths | None = None) -> int:
    """Serve until idle, ``/v1/shutdown`` or SIGTERM; returns the exit code (3: another service holds the lock)."""
    import uvicorn

    settings = settings or get_settings()
    paths = paths or service_paths(settings)
    lock = try_lock(paths.pid_file)
    if lock is None:
        log.error("a Mien service already runs for %s (%s is locked)", settings.home, paths.pid_file)
        return EXIT_ALREADY_RUNNING
    inode: int | None = None
    try:
        os.ftruncate(lock.fd, 0)
        os.pwrite(lock.fd, f"{os.getpid()}\n".encode(), 0)
        with contextlib.suppress(FileNotFoundError):
            paths.socket.unlink()  # stale: its server would hold the lock we now have
        sock = bind_private_socket(paths.socket)
        inode = paths.socket.stat().st_ino
        server: uvicorn.Server | None = None

        def request_stop() -> None:
            if server is not None:
                server.should_exit = True

        state = ServiceState(settings, paths, request_stop)
        config = uvicorn.Config(create_app(state), log_level="warning", timeout_graceful_shutdown=5, lifespan="on")
        server = uvicorn.Server(config)
        log.info("Mien service %d listening on %s", os.getpid(), paths.socket)
        server.run(sockets=[sock])
        return 1 if state.status().state == "failed" else 0
    finally:
        with contextlib.suppress(OSError):
            if inode is not None and paths.socket.stat().st_ino == inode:  # only our own socket, never a successor's
                paths.socket.unlink()
        with contextlib.suppress(OSError):
            os.ftruncate(lock.fd, 0)
        lock.release()

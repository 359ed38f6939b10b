"""Finding, starting and stopping the resident service from a client, and the session ``mien ask`` should use.

Starting is race-free: the starter holds ``start.lock`` while it checks for a service, spawns one and waits for it,
so two ``mien ask`` started together make one service (the second waits, then uses it); the service itself also
refuses to run twice (the pid-file lock). A socket file left by a killed service is removed when found.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from agent.service.client import ServiceClient, ServiceSession
from agent.service.locks import is_locked, locked
from agent.service.paths import ServicePaths, code_stamp, service_paths, settings_fingerprint
from agent.service.protocol import ServiceStatus
from tools.errors import MienError, ServiceError
from tools.settings import Settings

log = logging.getLogger(__name__)

_POLL_S = 0.2


def find_service(settings: Settings, paths: ServicePaths | None = None) -> tuple[ServiceClient, ServiceStatus] | None:
    """The running service of these settings' home and its status, or None (a stale socket is removed)."""
    paths = paths or service_paths(settings)
    if not paths.socket.exists():
        return None
    client = ServiceClient(paths)
    status = client.status()
    if status is not None:
        return client, status
    client.close()
    if not is_locked(paths.pid_file):  # no service holds the lock: the socket is a dead one's
        with contextlib.suppress(FileNotFoundError):
            paths.socket.unlink()
            log.info("removed the stale service socket %s", paths.socket)
    return None


def start_service(settings: Settings, paths: ServicePaths | None = None) -> tuple[ServiceStatus, bool]:
    """The ready service, started if none runs; and whether this call started it."""
    paths = paths or service_paths(settings)
    with locked(paths.start_lock, settings.service_startup_timeout_s + 30):
        found = find_service(settings, paths)
        if found is not None:
            return _wait_ready(found[0], settings, None, paths), False
        process = _spawn(paths)
        client = ServiceClient(paths)
        return _wait_ready(client, settings, process, paths), True


def stop_service(settings: Settings, timeout_s: float = 30.0) -> int | None:
    """Stop the running service (``/v1/shutdown``, then SIGTERM if it lingers). Its pid, or None if none ran."""
    paths = service_paths(settings)
    found = find_service(settings, paths)
    pid = _pid_of(paths)
    if found is None and not is_locked(paths.pid_file):
        return None
    if found is not None:
        found[0].shutdown()
        found[0].close()
        pid = found[1].pid
    deadline = time.monotonic() + timeout_s
    while is_locked(paths.pid_file) and time.monotonic() < deadline:
        time.sleep(_POLL_S)
    if is_locked(paths.pid_file) and pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        while is_locked(paths.pid_file) and time.monotonic() < deadline + 15:
            time.sleep(_POLL_S)
    if is_locked(paths.pid_file):
        raise ServiceError(f"the Mien service (pid {pid}) did not stop; its log: {paths.log}")
    while pid is not None and _running(pid) and time.monotonic() < deadline + 15:
        time.sleep(_POLL_S)  # the lock goes first; the interpreter's exit takes a moment more
    return pid


def _running(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper does not)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return False
    return fields[0] != "Z"


def service_session(settings: Settings, model_url: str | None = None) -> ServiceSession | None:
    """The session ``mien ask`` / ``mien chat`` should use in the service, or None to answer in-process.

    None when ``MIEN_SERVICE=off``, when ``--model`` names another endpoint, when a running service has other
    settings than this process (it would answer differently), or when starting one failed (logged).
    ``MIEN_SERVICE=auto`` starts the service on first use, and restarts an idle one that runs older code than
    this command; ``use`` only uses one already running.
    """
    if settings.service == "off" or model_url is not None:
        return None
    try:
        paths = service_paths(settings)
        found = find_service(settings, paths)
        if found is None and settings.service == "auto":
            start_service(settings, paths)
            found = find_service(settings, paths)
        if found is None:
            return None
        client, status = found
        if status.state == "loading":
            status = _wait_ready(client, settings, None, paths)
        if status.settings_fingerprint != settings_fingerprint(settings):
            log.warning("answering in this process: the running Mien service has other settings (restart it)")
            client.close()
            return None
        if status.code_stamp != code_stamp():
            client.close()
            if settings.service != "auto" or status.busy:
                log.warning("answering in this process: the running Mien service runs older code (restart it)")
                return None
            log.info("restarting the Mien service: it runs older code than this command")
            stop_service(settings)
            status, _ = start_service(settings, paths)
            client = ServiceClient(paths)
    except MienError as error:
        log.warning("answering in this process: the Mien service is unavailable (%s)", error)
        return None
    return ServiceSession(client, status)


def _spawn(paths: ServicePaths) -> subprocess.Popen[bytes]:
    """``python -m agent.service`` detached from this terminal (own session), its output in ``paths.log``."""
    env = dict(os.environ)
    source_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    fd = os.open(paths.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "agent.service"],
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=subprocess.STDOUT,
            cwd=str(paths.folder),
            env=env,
            start_new_session=True,  # a Ctrl-C in the terminal that started it does not stop it
        )
    finally:
        os.close(fd)


def _wait_ready(
    client: ServiceClient, settings: Settings, process: subprocess.Popen[bytes] | None, paths: ServicePaths
) -> ServiceStatus:
    deadline = time.monotonic() + settings.service_startup_timeout_s
    while time.monotonic() < deadline:
        status = client.status() if paths.socket.exists() else None
        if status is not None and status.state == "ready":
            return status
        if status is not None and status.state in ("failed", "stopping"):
            raise ServiceError(f"the Mien service could not start: {status.error or status.state}; log: {paths.log}")
        if process is not None and process.poll() is not None:
            code = process.returncode
            raise ServiceError(f"the Mien service exited with code {code}; its log ends:\n{_tail(paths)}")
        time.sleep(_POLL_S)
    raise ServiceError(
        f"the Mien service was not ready after {settings.service_startup_timeout_s:.0f} s; log: {paths.log}"
    )


def _pid_of(paths: ServicePaths) -> int | None:
    try:
        return int(paths.pid_file.read_text().strip() or "0") or None
    except (OSError, ValueError):
        return None


def _tail(paths: ServicePaths, max_chars: int = 2000) -> str:
    try:
        return paths.log.read_text(errors="replace")[-max_chars:].strip()
    except OSError:
        return ""

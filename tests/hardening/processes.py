"""Mien's servers as real processes for the hardening tests: start on a free loopback port, wait for /health,
stop (politely, or with SIGKILL to test crash recovery)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(home: Path, **settings: str) -> dict[str, str]:
    """The environment of a server or client process: its own MIEN_HOME, quiet native logs, one thread."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIEN_")}
    env.update(MIEN_HOME=str(home), OMP_NUM_THREADS="1", GLOG_minloglevel="2", HF_HUB_OFFLINE="1", MIEN_SERVICE="off")
    env.update({f"MIEN_{k.upper()}": v for k, v in settings.items()})
    return env


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no flush, no checkpoint: what a power cut does to the process."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start_server(
    args: list[str],
    env: dict[str, str],
    log: Path,
    *,
    port: int,
    scheme: str = "http",
    verify: str | bool = True,
    ready_status: tuple[int, ...] = (200,),
    timeout_s: float = 120.0,
) -> ServerProcess:
    """Start ``python args...`` and wait until ``/health`` answers with one of ``ready_status``."""
    handle = log.open("ab")
    process = subprocess.Popen([sys.executable, *args], env=env, stdout=handle, stderr=subprocess.STDOUT)
    handle.close()
    url = f"{scheme}://127.0.0.1:{port}"
    server = ServerProcess(process, url, log)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url + "/health", timeout=2, verify=verify, trust_env=False).status_code in ready_status:
                return server
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise AssertionError(f"server {args} did not start: {server.log_text()[-3000:]}")
        time.sleep(0.2)


def gallery_args(store: Path, port: int, *extra: str) -> list[str]:
    return ["-m", "servers.gallery", "--store", str(store), "--port", str(port), *extra]


@contextmanager
def gallery_server(store: Path, home: Path, log: Path, *extra: str, **settings: str) -> Iterator[ServerProcess]:
    port = free_port()
    server = start_server(gallery_args(store, port, *extra), server_env(home, **settings), log, port=port)
    try:
        yield server
    finally:
        server.stop()

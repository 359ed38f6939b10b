"""One real ``mien serve web`` process for the web tests, on a free port, with its own data folder.

The server runs the real perception tools and the real embedded chat model (MIEN_SERVICE=off: in-process, no
resident service). Its working directory is an empty folder beside the data folder, so a test can check that
nothing was written outside the data folder.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).parents[2]
UPLOAD_LIMIT_BYTES = 2_000_000  # the example clip is 114 KB; a 2.5 MB body is "too large"
STARTUP_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class WebServer:
    url: str
    home: Path
    outside: Path
    log: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    root = tmp_path_factory.mktemp("web")
    home, outside = root / "home", root / "outside"
    outside.mkdir()
    port = _free_port()
    env = {
        **os.environ,
        "MIEN_HOME": str(home),
        "MIEN_SERVICE": "off",
        "MIEN_SERVER_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT_BYTES),
        "PYTHONPATH": str(REPO),
        "OMP_NUM_THREADS": "1",
        "GLOG_minloglevel": "2",
        "HF_HUB_OFFLINE": "1",
    }
    log = root / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "agent.cli", "serve", "web", "--port", str(port)],
            cwd=outside, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = WebServer(f"http://127.0.0.1:{port}", home, outside, log, process)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"mien serve web exited with {process.returncode}:\n{server.log_text()[-3000:]}")
            try:
                if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"mien serve web did not answer /health in {STARTUP_TIMEOUT_S} s")
            time.sleep(0.5)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def web(web_server: WebServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=web_server.url, timeout=120) as client:
        yield client

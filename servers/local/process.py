"""Running the embedded server as a real subprocess on a free loopback port, for the CLI and for tests.

``LocalServer`` binds a socket on 127.0.0.1 port 0 itself and hands it to the child (no race for the port), waits
until ``/health`` says the model is loaded, and on exit stops the child with SIGTERM (SIGKILL after a grace
period). The child also exits by itself when its parent dies, so a killed CLI leaves no server behind.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import httpx

from servers.local.catalog import embedded_model_path, embedded_served_name, resolve_runtime
from servers.local.loading import ModelSource, dequantized_cache_root
from servers.local.serving import ServiceLimits
from tools.errors import ServiceError
from tools.settings import Settings, get_settings

_POLL_INTERVAL_S = 0.25


def log_tail(path: Path | None, max_chars: int = 2000) -> str:
    """The end of a server's log, for error messages."""
    if path is None or not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8", errors="replace")
    return text[-max_chars:].strip()


def wait_until_healthy(
    health_url: str, process: subprocess.Popen[bytes], *, timeout_s: float, log_path: Path | None, what: str
) -> None:
    """Poll ``health_url`` until it answers 200. Raises ``ServiceError`` (with the log's tail) if the process exits,
    reports a failed load, or is not healthy within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=5.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            code = process.poll()
            if code is not None:
                tail = log_tail(log_path)
                raise ServiceError(f"{what} exited with code {code} while starting; its log ends:\n{tail}")
            try:
                response = client.get(health_url)
            except httpx.HTTPError:
                response = None
            if response is not None and response.status_code == 200:
                return
            if response is not None and _reports_failure(response):
                raise ServiceError(f"{what} could not load its model: {response.json().get('error')}")
            time.sleep(_POLL_INTERVAL_S)
    raise ServiceError(f"{what} was not ready after {timeout_s:.0f} s; its log ends:\n{log_tail(log_path)}")


def _reports_failure(response: httpx.Response) -> bool:
    try:
        return bool(response.json().get("status") == "failed")
    except ValueError:
        return False


def stop_process(process: subprocess.Popen[bytes], grace_s: float = 10.0) -> int | None:
    """SIGTERM, then SIGKILL if the process is still alive after ``grace_s``. Returns its exit code."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(grace_s)
    return process.returncode


class LocalServer:
    """The embedded chat server in a child process. Use as a context manager::

    with LocalServer() as server:
        ChatOpenAI(base_url=server.base_url, api_key="none", model=server.model_name)
    """

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        served_name: str | None = None,
        limits: ServiceLimits | None = None,
        startup_timeout_s: float | None = None,
        settings: Settings | None = None,
    ) -> None:
        settings = settings or get_settings()
        if model_path is None:
            model_path = embedded_model_path(settings)  # assembles a packaged Qwen GGUF once, into the cache
            served_name = served_name or embedded_served_name(settings)
        self.source = ModelSource.resolve(model_path, served_name)  # a wrong path fails here, before any spawn
        self.limits = limits or ServiceLimits(
            threads=settings.llm_threads,
            max_queue=settings.llm_max_queue,
            default_max_tokens=settings.llm_max_new_tokens,
            runtime=settings.llm_runtime,
            context_tokens=settings.llm_context_tokens,
        )
        self.runtime = resolve_runtime(self.source, self.limits.runtime, settings)
        self.startup_timeout_s = startup_timeout_s if startup_timeout_s is not None else settings.llm_startup_timeout_s
        self.cache_root = dequantized_cache_root(settings)
        self.port: int | None = None
        self.log_path: Path | None = None
        self.startup_s: float | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def model_name(self) -> str:
        """The name to put in requests' ``model`` field."""
        return self.source.served_name

    @property
    def root_url(self) -> str:
        if self.port is None:
            raise ServiceError("the embedded chat server is not running")
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI base URL (ends in ``/v1``)."""
        return f"{self.root_url}/v1"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> LocalServer:
        """Spawn the server and block until its model is loaded."""
        if self._process is not None:
            return self
        started = time.perf_counter()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        handle, log_name = tempfile.mkstemp(prefix="mien-llm-", suffix=".log")
        self.log_path = Path(log_name)
        try:
            with os.fdopen(handle, "wb") as log_file:
                self._process = subprocess.Popen(
                    self._command(sock.fileno()),
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    pass_fds=(sock.fileno(),),
                    env=_child_environment(),
                )
        finally:
            sock.close()  # the child holds its own copy
        atexit.register(self.stop)
        try:
            wait_until_healthy(
                f"{self.root_url}/health",
                self._process,
                timeout_s=self.startup_timeout_s,
                log_path=self.log_path,
                what="the embedded chat server",
            )
        except BaseException:
            self.stop(keep_log=True)
            raise
        self.startup_s = time.perf_counter() - started
        return self

    def stop(self, keep_log: bool = False) -> None:
        """Stop the child (idempotent). The log is deleted unless ``keep_log``."""
        process, self._process = self._process, None
        if process is not None:
            stop_process(process)
        atexit.unregister(self.stop)
        if not keep_log and self.log_path is not None:
            with contextlib.suppress(OSError):
                self.log_path.unlink()

    def _command(self, fd: int) -> list[str]:
        command = [
            sys.executable, "-m", "servers.local",
            "--fd", str(fd),
            "--parent-pid", str(os.getpid()),
            "--model", self.source.describe(),
            "--served-name", self.source.served_name,
            "--threads", str(self.limits.threads),
            "--max-queue", str(self.limits.max_queue),
            "--max-new-tokens", str(self.limits.default_max_tokens),
            "--cache-dir", str(self.cache_root),
            "--runtime", self.runtime,
            "--context", str(self.limits.context_tokens),
        ]  # fmt: skip
        return command

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def _child_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    # The child must run this same code, whatever the working directory or installed copy: put the folder that
    # holds the ``servers`` package first on its path.
    source_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source_root, env.get("PYTHONPATH", "")) if p)
    return env

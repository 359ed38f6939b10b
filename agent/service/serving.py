"""What the resident service does: keep one agent session (chat model + tools + router) and the perception models
loaded, run asks one at a time, and ask its server to stop once idle for ``MIEN_SERVICE_IDLE_TIMEOUT_S``.

Loading runs on a thread started with the app, so the socket answers ``/v1/status`` (``loading``) at once and a
client can tell a slow start from a dead one. Asks are serialized: on a small CPU two concurrent answers are each
slower than two in a row, and the session's graph is not meant to be shared between threads.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from agent.model import ChatEndpoint, open_endpoint
from agent.service.cli_run import OutputStream, command_of, run_command
from agent.service.paths import ServicePaths, code_stamp, settings_fingerprint
from agent.service.protocol import AskRequest, RunRequest, ServiceEvent, ServiceStatus, WarmModel
from agent.service.warm import warm_models
from agent.session import AgentSession, open_threads
from tools.errors import MienError, ServiceError
from tools.settings import Settings

log = logging.getLogger(__name__)


class ServiceState:
    """The service's session and bookkeeping. ``request_stop`` is set by the process to stop its HTTP server."""

    def __init__(self, settings: Settings, paths: ServicePaths, request_stop: Callable[[], None]) -> None:
        self.settings = settings
        self.paths = paths
        self.request_stop = request_stop
        self.started_s = time.time()
        self._code_stamp = code_stamp()
        self._started = time.monotonic()
        self._state = "loading"
        self._error: str | None = None
        self._ready_s: float | None = None
        self._warm: list[WarmModel] = []
        self._session: AgentSession | None = None
        self._endpoint: ChatEndpoint | None = None
        self._stack = contextlib.ExitStack()
        self._ask_lock = threading.Lock()
        self._busy = 0
        self._requests = 0
        self._last_activity = time.monotonic()
        self._ready = threading.Event()
        self._closed = threading.Event()

    # -- life ------------------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Load in the background, and watch for idleness."""
        threading.Thread(target=self._load, name="mien-service-load", daemon=True).start()
        threading.Thread(target=self._watch_idle, name="mien-service-idle", daemon=True).start()

    def close(self) -> None:
        """Stop the chat model and release everything (idempotent)."""
        self._state = "stopping"
        self._closed.set()
        self._stack.close()

    def _load(self) -> None:
        try:
            self._endpoint = self._stack.enter_context(open_endpoint(self.settings))
            saver = self._stack.enter_context(open_threads(self.settings))
            self._session = AgentSession.for_endpoint(self._endpoint, self.settings, saver)
            self._warm = warm_models(self.settings)
        except Exception as error:  # reported by /status; the client then answers in-process
            log.exception("the service could not load its models")
            self._error = f"{type(error).__name__}: {error}"
            self._state = "failed"
            self.request_stop()
            return
        finally:
            self._ready.set()
        self._ready_s = time.monotonic() - self._started
        self._last_activity = time.monotonic()
        self._state = "ready"
        log.info("service ready in %.1f s (pid %d)", self._ready_s, os.getpid())

    def _watch_idle(self) -> None:
        timeout = self.settings.service_idle_timeout_s
        step = min(5.0, max(0.2, timeout / 4))
        while not self._closed.wait(step):
            if self._state == "ready" and not self._busy and time.monotonic() - self._last_activity > timeout:
                log.info("idle for %.0f s: stopping", timeout)
                self._state = "stopping"
                self.request_stop()
                return

    # -- requests --------------------------------------------------------------------------------------------------
    def status(self) -> ServiceStatus:
        endpoint = self._endpoint
        now = time.monotonic()
        return ServiceStatus(
            state=self._state,  # type: ignore[arg-type]
            pid=os.getpid(),
            home=str(self.settings.home),
            socket=str(self.paths.socket),
            settings_fingerprint=settings_fingerprint(self.settings),
            code_stamp=self._code_stamp,
            started_s=self.started_s,
            ready_s=self._ready_s,
            uptime_s=round(now - self._started, 3),
            idle_s=0.0 if self._busy else round(now - self._last_activity, 3),
            idle_timeout_s=self.settings.service_idle_timeout_s,
            requests=self._requests,
            busy=bool(self._busy),
            chat_model=endpoint.model if endpoint else None,
            chat_base_url=endpoint.base_url if endpoint else None,
            warm=list(self._warm),
            error=self._error,
        )

    def session(self) -> AgentSession:
        """The loaded session; waits for loading to end. ``ServiceError`` when it failed or the service stops."""
        self._ready.wait(self.settings.service_startup_timeout_s)
        if self._session is None or self._state not in ("ready", "loading"):
            raise ServiceError(f"the Mien service is not ready ({self._state}: {self._error or 'stopping'})")
        return self._session

    @contextlib.contextmanager
    def activity(self) -> Iterator[None]:
        """Marks a request as running (the idle clock stops) for its duration."""
        self._busy += 1
        self._requests += 1
        try:
            yield
        finally:
            self._busy -= 1
            self._last_activity = time.monotonic()

    def ask_events(self, request: AskRequest) -> Iterator[str]:
        """Run one ask on a worker thread and yield its events as JSON lines as they happen."""
        log.info("ask in thread %s (%d media)", request.thread, len(request.media))  # no question: privacy

        def work(emit: Callable[[ServiceEvent], None]) -> ServiceEvent:
            answer = self.session().ask(
                request.question,
                [Path(path) for path in request.media],
                request.thread,
                request.privacy,
                on_token=lambda text: emit(ServiceEvent(type="token", text=text)),
                on_tool=lambda data: emit(ServiceEvent(type="tool", data=dict(data))),
            )
            return ServiceEvent(type="answer", data=answer.to_dict())

        return self._streamed("ask", work)

    def run_events(self, request: RunRequest) -> Iterator[str]:
        """Run one ``mien`` command (``cli_run``) on a worker thread, after the session has loaded (its models
        are the point); yield its output and exit code as JSON lines."""
        log.info("run %s", command_of(request.argv))  # only the command: paths and values stay private

        def work(emit: Callable[[ServiceEvent], None]) -> ServiceEvent:
            def output(stream: OutputStream, text: str) -> None:
                emit(ServiceEvent(type=stream, text=text))

            return ServiceEvent(type="exit", exit_code=run_command(request, output, self.session()))

        return self._streamed("run", work)

    def _streamed(self, name: str, work: Callable[[Callable[[ServiceEvent], None]], ServiceEvent]) -> Iterator[str]:
        """``work`` on a worker thread, under the one lock, counted as activity; the events it emits, then the one
        it returns (or the error it raised), as JSON lines as they happen."""
        events: queue.Queue[ServiceEvent | None] = queue.Queue()

        def worker() -> None:
            with self.activity():
                try:
                    with self._ask_lock:
                        events.put(work(events.put))
                except MienError as error:
                    events.put(_error_event(type(error).__name__, str(error), error.exit_code))
                except Exception as error:  # a bug: logged here in full, one line for the client
                    log.exception("%s failed", name)
                    events.put(_error_event("internal", f"{type(error).__name__}: {error}", 70))
                finally:
                    events.put(None)

        threading.Thread(target=worker, name=f"mien-service-{name}", daemon=True).start()
        while (event := events.get()) is not None:
            yield event.model_dump_json(exclude_none=True) + "\n"

    def history(self, thread: str) -> list[tuple[str, str]]:
        with self.activity(), self._ask_lock:
            return self.session().history(thread)


def _error_event(kind: str, message: str, exit_code: int) -> ServiceEvent:
    return ServiceEvent(type="error", kind=kind, message=message, exit_code=exit_code)

"""Talking to the resident service over its unix socket; ``ServiceSession`` asks like an in-process ``AgentSession``.

Errors the service reports come back as the same ``MienError`` subclass (a bad file is a ``MediaError`` here too,
with its exit code); a service that vanishes mid-answer is a ``ServiceError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import httpx
from pydantic import ValidationError

import tools.errors as errors
from agent.service.paths import ServicePaths
from agent.service.protocol import (
    API_PREFIX,
    AskRequest,
    HistoryRequest,
    HistoryResponse,
    RunRequest,
    ServiceEvent,
    ServiceStatus,
)
from tools.errors import MienError, ServiceError

if TYPE_CHECKING:  # the answer types import the agent (LangChain): a command run in the service needs none of it
    from agent.answer import Answer
    from agent.state import PrivacyMode

TokenCallback = Callable[[str], None]
ToolCallback = Callable[[dict[str, Any]], None]


class AskSession(Protocol):
    """What ``mien ask`` and ``mien chat`` need of a session, in-process (``AgentSession``) or in the service."""

    def ask(
        self,
        question: str,
        media: Sequence[str | Path],
        thread_id: str,
        privacy: PrivacyMode | None = None,
        on_token: TokenCallback | None = None,
        on_tool: ToolCallback | None = None,
    ) -> Answer: ...

    def history(self, thread_id: str) -> list[tuple[str, str]]: ...


class ServiceClient:
    """HTTP over the service's unix socket. ``timeout_s`` bounds one read (an answer streams, so a long one is fine
    while tokens keep coming)."""

    def __init__(self, paths: ServicePaths, timeout_s: float = 600.0) -> None:
        self.paths = paths
        transport = httpx.HTTPTransport(uds=str(paths.socket))
        self._client = httpx.Client(
            transport=transport,
            base_url="http://mien-service",
            timeout=timeout_s,
            headers={"content-type": "application/json"},
        )

    def close(self) -> None:
        self._client.close()

    def status(self, timeout_s: float = 5.0) -> ServiceStatus | None:
        """The service's status, or None when nothing answers on the socket."""
        try:
            response = self._client.get(f"{API_PREFIX}/status", timeout=timeout_s)
        except httpx.TransportError:
            return None
        if response.status_code != 200:
            raise ServiceError(f"the Mien service on {self.paths.socket} answered HTTP {response.status_code}")
        try:
            return ServiceStatus.model_validate_json(response.content)
        except ValidationError as error:
            raise ServiceError(
                f"the Mien service on {self.paths.socket} sent an unexpected status ({error})"
            ) from error

    def shutdown(self) -> bool:
        """Ask the service to stop; False when nothing answered."""
        try:
            self._client.post(f"{API_PREFIX}/shutdown", timeout=5.0)
        except httpx.TransportError:
            return False
        return True

    def ask(self, request: AskRequest, on_token: TokenCallback | None, on_tool: ToolCallback | None) -> Answer:
        for event in self._events("ask", request.model_dump_json(), timeout=None):
            if event.type == "token" and on_token and event.text:
                on_token(event.text)
            elif event.type == "tool" and on_tool and event.data is not None:
                on_tool(event.data)
            elif event.type == "answer" and event.data is not None:
                from agent.answer import Answer

                return Answer.from_dict(event.data)
        raise ServiceError("the Mien service ended the answer without a result (see its log: mien service status)")

    def run(self, request: RunRequest, on_stdout: Callable[[str], object], on_stderr: Callable[[str], object]) -> int:
        """Run a ``mien`` command in the service; its output goes to the callbacks as it comes; its exit code.

        No read timeout: a long command may print nothing for minutes, and a service that dies closes the socket.
        """
        timeout = httpx.Timeout(10.0, read=None)
        for event in self._events("run", request.model_dump_json(), timeout):
            if event.type == "stdout" and event.text:
                on_stdout(event.text)
            elif event.type == "stderr" and event.text:
                on_stderr(event.text)
            elif event.type == "exit" and event.exit_code is not None:
                return event.exit_code
        raise ServiceError("the Mien service ended the command without an exit code (see its log: mien service status)")

    def _events(self, route: str, body: str, timeout: httpx.Timeout | None) -> Iterator[ServiceEvent]:
        """The events of a streamed route as they come; an ``error`` event is raised as the error it names."""
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        try:
            with self._client.stream("POST", f"{API_PREFIX}/{route}", content=body, **extra) as response:
                if response.status_code != 200:
                    raise _error_from(response.read(), response.status_code, self.paths)
                for line in response.iter_lines():
                    if not line.strip():
                        continue
                    event = ServiceEvent.model_validate_json(line)
                    if event.type == "error":
                        raise _error(event.kind, event.message, event.exit_code)
                    yield event
        except httpx.TransportError as error:
            raise ServiceError(f"the Mien service on {self.paths.socket} stopped answering ({error})") from error
        except ValidationError as error:
            raise ServiceError(f"the Mien service sent an unexpected event ({error})") from error

    def history(self, thread_id: str) -> list[tuple[str, str]]:
        try:
            response = self._client.post(
                f"{API_PREFIX}/history", content=HistoryRequest(thread=thread_id).model_dump_json()
            )
        except httpx.TransportError as error:
            raise ServiceError(f"the Mien service on {self.paths.socket} stopped answering ({error})") from error
        if response.status_code != 200:
            raise _error_from(response.content, response.status_code, self.paths)
        return [tuple(turn) for turn in HistoryResponse.model_validate_json(response.content).turns]  # type: ignore[misc]


class ServiceSession:
    """An ``AskSession`` whose turns run in the resident service: same arguments, same callbacks, same answers."""

    def __init__(self, client: ServiceClient, status: ServiceStatus) -> None:
        self.client = client
        self.status = status

    def ask(
        self,
        question: str,
        media: Sequence[str | Path],
        thread_id: str,
        privacy: PrivacyMode | None = None,
        on_token: TokenCallback | None = None,
        on_tool: ToolCallback | None = None,
    ) -> Answer:
        # The service has its own working directory: send absolute paths.
        paths = [str(Path(path).expanduser().resolve()) for path in media]
        request = AskRequest(question=question, media=paths, thread=thread_id, privacy=privacy)
        return self.client.ask(request, on_token, on_tool)

    def history(self, thread_id: str) -> list[tuple[str, str]]:
        return self.client.history(thread_id)


def _error(kind: str | None, message: str | None, exit_code: int | None) -> MienError:
    """The ``MienError`` subclass the service named (a ``ServiceError`` for internal errors and unknown names)."""
    cls = getattr(errors, kind or "", None)
    text = message or "the Mien service failed"
    if isinstance(cls, type) and issubclass(cls, MienError):
        return cls(text)
    error = ServiceError(f"the Mien service failed: {text}")
    if exit_code is not None:
        error.exit_code = exit_code
    return error


def _error_from(body: bytes, status_code: int, paths: ServicePaths) -> MienError:
    try:
        data = json.loads(body)
        if "kind" in data:
            return _error(data.get("kind"), data.get("message"), data.get("exit_code"))
        return ServiceError(f"the Mien service on {paths.socket} refused the request: {str(data)[:300]}")
    except (ValueError, AttributeError, TypeError):
        return ServiceError(f"the Mien service on {paths.socket} answered HTTP {status_code}: {body[:200]!r}")

"""The resident service's messages: HTTP over its unix socket, JSON bodies, answers streamed as JSON lines.

``POST /v1/ask`` answers ``application/x-ndjson``: one ``ServiceEvent`` per line (``token``, ``tool``, then one
``answer`` or ``error``), so a client prints tokens as they come exactly as an in-process session would.
``POST /v1/run`` runs another ``mien`` command in the service (its models are loaded): ``stdout`` and ``stderr``
events carry the command's output as it is written, then one ``exit`` event its exit code.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

API_PREFIX = "/v1"
PROTOCOL_VERSION = 1


class AskRequest(BaseModel):
    """One turn: ``question`` about ``media`` (absolute paths) in ``thread``."""

    question: str
    media: list[str]
    thread: str
    privacy: Literal["local", "deidentified"] | None = None


class RunRequest(BaseModel):
    """One ``mien`` command line (``argv`` without the program name), run as if in ``cwd``.

    ``stdout_tty``, ``stderr_tty``, ``color_system`` (rich's name for what the client's terminal shows) and
    ``columns`` describe the client's terminal, so tables wrap, colours show and progress bars draw as they would in
    the client's own process.
    """

    argv: list[str]
    cwd: str
    stdout_tty: bool = False
    stderr_tty: bool = False
    color_system: Literal["standard", "256", "truecolor", "windows"] | None = None
    columns: int = Field(default=80, ge=20, le=1000)


class HistoryRequest(BaseModel):
    thread: str


class HistoryResponse(BaseModel):
    turns: list[tuple[str, str]]


class ServiceEvent(BaseModel):
    """One line of an ask's stream.

    ``token``: ``text`` of the streamed answer. ``tool``: ``data``, a tool's progress as the graph reports it.
    ``answer``: ``data``, the ``Answer`` as a dict. ``error``: ``kind`` (a ``MienError`` subclass name, or
    ``internal``), ``message`` and ``exit_code``. For ``/v1/run``: ``stdout`` and ``stderr`` (``text``), then
    ``exit`` (``exit_code``).
    """

    type: Literal["token", "tool", "answer", "error", "stdout", "stderr", "exit"]
    text: str | None = None
    data: dict[str, Any] | None = None
    kind: str | None = None
    message: str | None = None
    exit_code: int | None = None


class WarmModel(BaseModel):
    """A model the service loaded at start, and how long that took (or why it failed)."""

    name: str
    seconds: float
    error: str | None = None


class ServiceStatus(BaseModel):
    """What ``GET /v1/status`` (and ``mien service status --json``) reports."""

    protocol: int = PROTOCOL_VERSION
    state: Literal["loading", "ready", "failed", "stopping"]
    pid: int
    home: str
    socket: str
    settings_fingerprint: str
    code_stamp: str
    started_s: float = Field(description="Unix time the process started.")
    ready_s: float | None = Field(default=None, description="Seconds from start until the models were loaded.")
    uptime_s: float
    idle_s: float = Field(description="Seconds since the last request ended (0 while one runs).")
    idle_timeout_s: float
    requests: int
    busy: bool
    chat_model: str | None = None
    chat_base_url: str | None = None
    warm: list[WarmModel] = Field(default_factory=list)
    error: str | None = None

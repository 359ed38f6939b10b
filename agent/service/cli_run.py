"""Running a ``mien`` command inside the service, so that ``mien faces``, ``mien emotions`` and the rest use the
models the service already loaded instead of loading them again.

A command run here sees what it would see in the client's process: its working directory (for relative paths, in
and out), a terminal as wide as the client's, stdout and stderr as two streams, the warnings it logs, and the exit
code ``mien`` would return. Working directory, ``sys.stdout``/``sys.stderr`` and the consoles are process-wide,
so runs are serialized (the caller holds the service's one ask lock) and everything is put back afterwards.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Literal

from agent.service.protocol import RunRequest
from agent.service.resident import hosting

if TYPE_CHECKING:
    from agent.session import AgentSession

OutputStream = Literal["stdout", "stderr"]
Write = Callable[[OutputStream, str], None]

_LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"  # the CLI's own (agent.cli.app)


class _EventStream(io.TextIOBase):
    """A text stream whose writes become ``stdout`` / ``stderr`` events."""

    def __init__(self, name: OutputStream, write: Write, tty: bool) -> None:
        super().__init__()
        self._name = name
        self._write = write
        self._tty = tty

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._tty

    def write(self, text: str) -> int:
        if text:
            self._write(self._name, text)
        return len(text)


def command_of(args: Sequence[str]) -> str | None:
    """The subcommand named in ``args`` (``mien -v faces x.jpg`` → ``faces``), or None."""
    for arg in args:
        if not arg.startswith("-"):
            return arg
    return None


def run_command(request: RunRequest, write: Write, session: AgentSession | None = None) -> int:
    """Run ``mien <request.argv>`` here; its output goes to ``write``; returns its exit code. A ``mien ask``
    answers with ``session`` (the service's own, ``agent.service.resident``)."""
    from agent.cli.app import main  # imported on first use: the service itself needs no CLI

    stdout = _EventStream("stdout", write, tty=request.stdout_tty)
    stderr = _EventStream("stderr", write, tty=request.stderr_tty)
    level = logging.INFO if {"-v", "--verbose"} & set(request.argv) else logging.WARNING
    with (
        _working_directory(request.cwd),
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
        _terminal(request),
        _logs_to(stderr, level),
        hosting(session),
    ):
        return main(list(request.argv))


@contextlib.contextmanager
def _working_directory(path: str) -> Iterator[None]:
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


@contextlib.contextmanager
def _terminal(request: RunRequest) -> Iterator[None]:
    """The CLI's rich consoles set to the client's terminal (width, colours, whether each stream is a terminal, so
    progress bars draw), restored afterwards. Rich has no public setters for the last two: without them a command
    run here would print plain text where the client's own process prints colour."""
    from rich.console import COLOR_SYSTEMS

    from agent.cli.output import console, err_console

    private = ("_width", "_force_terminal", "_color_system", "is_interactive")
    saved = [(each, [getattr(each, name, None) for name in private]) for each in (console, err_console)]
    colors = COLOR_SYSTEMS.get(request.color_system) if request.color_system else None
    for each, tty in ((console, request.stdout_tty), (err_console, request.stderr_tty)):
        each.width = request.columns
        if hasattr(each, "_force_terminal"):
            each._force_terminal = tty
        if hasattr(each, "_color_system"):
            each._color_system = colors if tty else None
        each.is_interactive = tty  # what Live (progress bars) reads; rich sets it once, from the service's stdio
    try:
        yield
    finally:
        for each, values in saved:
            for name, value in zip(private, values, strict=True):
                if hasattr(each, name):
                    setattr(each, name, value)


@contextlib.contextmanager
def _logs_to(stream: io.TextIOBase, level: int) -> Iterator[None]:
    """Warnings logged during the run (a damaged file read anyway) reach the client's stderr, as they would have
    in its own process; the service's log keeps them too."""
    handler = logging.StreamHandler(stream)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(min(previous_level or logging.WARNING, level))
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)

"""Keeping C++ libraries' log lines out of the user's terminal, at the file-descriptor level.

MediaPipe, TensorFlow Lite and absl write straight to file descriptor 2 from C++ ("INFO: Created TensorFlow Lite
XNNPACK delegate for CPU.", "W0000 00:00:... inference_feedback_manager.cc:114] ..."), from their own threads and
whenever a graph starts, so neither ``GLOG_minloglevel`` (absl ignores it) nor Python's ``sys.stderr`` can stop
them. ``NativeStderrFilter`` points fd 2 at a pipe whose reader drops those lines and passes every other byte on
(a native crash message still shows), while Python's own ``sys.stderr`` — our warnings, errors and progress bars —
is given a direct line to the real stderr, so it stays a terminal and is never delayed or filtered.
``silenced_fd2`` is the local form for library users: fd 2 pointed at /dev/null around one native load or call.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import threading
from collections.abc import Iterator
from typing import TextIO

# What C++ logging in the libraries we load looks like: glog/absl prefixes ("W0000 00:00:1796161350.491696
# 8491 file.cc:114] ..."), TFLite's "INFO: ..." lines and absl's notice that logging is not initialised.
NATIVE_LOG_LINE = re.compile(
    rb"^(?:"
    rb"[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+\s+[\w./-]+:\d+\]"
    rb"|INFO: (?:Created TensorFlow Lite|Initialized TensorFlow Lite)"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|gl_context[\w.]*:\d+\]"
    rb")"
)


def is_native_log_line(line: bytes) -> bool:
    """Whether ``line`` (bytes, with or without its newline) is a C++ library's log line."""
    return NATIVE_LOG_LINE.match(line.lstrip(b"\r")) is not None


class NativeStderrFilter:
    """Process-wide: fd 2 goes through a filter thread that drops native log lines; ``sys.stderr`` bypasses it.

    Use as a context manager around a whole command. On exit fd 2 is restored and everything still in the pipe is
    passed on before returning. Child processes inherit the filtered fd 2, so their native lines are dropped too.
    """

    def __init__(self) -> None:
        self.dropped = 0
        self._saved_fd: int | None = None
        self._read_fd: int | None = None
        self._thread: threading.Thread | None = None
        self._python_stderr: TextIO | None = None
        self._old_stderr: TextIO | None = None

    def __enter__(self) -> NativeStderrFilter:
        sys.stderr.flush()
        self._saved_fd = os.dup(2)
        read_fd, write_fd = os.pipe()
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self._read_fd = read_fd
        self._old_stderr = sys.stderr
        self._python_stderr = io.TextIOWrapper(
            io.FileIO(os.dup(self._saved_fd), "w"),
            encoding=getattr(sys.stderr, "encoding", None) or "utf-8",
            errors="backslashreplace",
            line_buffering=True,
            write_through=True,
        )
        sys.stderr = self._python_stderr
        self._thread = threading.Thread(target=self._pump, name="native-stderr-filter", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved_fd is None:
            return
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(self._saved_fd, 2)  # closes the pipe's write end held by fd 2: the reader sees its end
        if self._thread is not None:
            self._thread.join(timeout=2.0)  # a child that outlived us may hold the pipe open; do not hang
        if self._old_stderr is not None:
            sys.stderr = self._old_stderr
        os.close(self._saved_fd)
        self._saved_fd = None

    def _pump(self) -> None:
        assert self._read_fd is not None and self._saved_fd is not None
        out = os.dup(self._saved_fd)
        pending = b""
        try:
            while True:
                chunk = os.read(self._read_fd, 65536)
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                self._forward(out, lines)
            if pending:
                self._forward(out, [pending], newline=False)
        finally:
            os.close(self._read_fd)
            os.close(out)

    def _forward(self, out: int, lines: list[bytes], newline: bool = True) -> None:
        kept = [line for line in lines if not is_native_log_line(line)]
        self.dropped += len(lines) - len(kept)
        if kept:
            data = b"\n".join(kept) + (b"\n" if newline else b"")
            with contextlib.suppress(OSError):
                os.write(out, data)


@contextlib.contextmanager
def silenced_fd2() -> Iterator[None]:
    """fd 2 pointed at /dev/null for the block (for one native load or call; Python's writes there are lost too)."""
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)

"""One turn at a time per conversation thread, across processes.

Why: LangGraph's checkpointer reads a thread's latest checkpoint when a turn starts and writes the next one when
it ends. Two ``mien chat`` processes on the same ``--thread`` whose turns overlap would both build on the same
parent, and the later write would hide the earlier turn (it survives only as a fork nobody resumes). Holding an
exclusive ``flock`` on ``<home>/locks/thread-<id>.lock`` for the length of a turn makes the second process wait
and then start from the first one's answer. The lock is released by the kernel if the process dies.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tools.errors import ServiceError


@contextmanager
def setup_lock(home: Path, name: str) -> Iterator[None]:
    """Hold ``<home>/locks/setup-<name>.lock`` exclusively (blocking): one process at a time creates or migrates
    a shared store. Released by the kernel if the process dies."""
    folder = Path(home) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"setup-{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextmanager
def thread_turn(home: Path, thread_id: str, timeout_s: float = 600.0) -> Iterator[float]:
    """Hold the thread's lock for one turn; yields the seconds spent waiting for it. Raises ``ServiceError`` when
    another process holds it for longer than ``timeout_s``."""
    folder = Path(home) / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(thread_id.encode("utf-8")).hexdigest()[:16]  # any thread id is a safe file name
    fd = os.open(folder / f"thread-{digest}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    start = time.monotonic()
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() - start > timeout_s:
                    raise ServiceError(
                        f"thread {thread_id!r} is busy in another Mien process for over {timeout_s:.0f} s"
                    ) from None
                time.sleep(0.05)
        yield time.monotonic() - start
    finally:
        os.close(fd)  # closing the descriptor releases the lock

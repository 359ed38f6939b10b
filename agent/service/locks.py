"""File locks (``flock``) that make the service single: one holder at a time, released by the kernel when the holder
dies, so a crashed service never leaves a lock that blocks the next start."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from tools.errors import ServiceError


class HeldLock:
    """An exclusive ``flock`` on ``path``, held until ``release`` (or the process's end)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    def release(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1


def try_lock(path: Path) -> HeldLock | None:
    """The lock on ``path`` (created 0o600) if nobody holds it, else None. Never blocks."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return HeldLock(path, fd)


def is_locked(path: Path) -> bool:
    """Whether some process holds the lock on ``path`` now."""
    if not path.exists():
        return False
    held = try_lock(path)
    if held is None:
        return True
    held.release()
    return False


@contextlib.contextmanager
def locked(path: Path, timeout_s: float) -> Iterator[HeldLock]:
    """Hold the lock on ``path``, waiting up to ``timeout_s`` for another holder; ``ServiceError`` after that."""
    deadline = time.monotonic() + timeout_s
    while (held := try_lock(path)) is None:
        if time.monotonic() > deadline:
            raise ServiceError(f"another process held {path} for more than {timeout_s:.0f} s")
        time.sleep(0.1)
    try:
        yield held
    finally:
        held.release()

"""Atomic file writes: write to a temporary file in the same folder, fsync, then rename over the target."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tools.access import guard_write


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` in one rename.

    If the body raises, the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    guard_write(target)  # inside an agent's tool run, only into its output folders (tools.access)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp" + target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates 0600; an ordinary output file gets the usual permissions (callers may tighten them).
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(target: str | Path, data: bytes, mode: int | None = None) -> Path:
    """Write ``data`` to ``target`` atomically, optionally with permission bits ``mode`` (e.g. 0o600)."""
    target = Path(target)
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
        if mode is not None:
            os.chmod(tmp, mode)
    return target

"""The evidence cache: one tool's result on one media file, kept on disk so that no tool runs twice for it.

A result is keyed by the media's content hash (not its path: a renamed copy hits, an edited file misses), the
tool's name, its arguments and the versions of the models behind it. Records are JSON files written atomically
under ``<home>/evidence``, so a follow-up question, another thread or another process reuses them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.errors import MediaError
from tools.storage import atomic_write_bytes

log = logging.getLogger(__name__)

_HASH_CHUNK_BYTES = 1 << 20
_hash_memo: dict[tuple[str, int, int], str] = {}


def content_hash(path: str | Path) -> str:
    """SHA-256 of the file's bytes, hex. Memoised per (path, size, mtime) so a file is read once per process."""
    file = Path(path)
    try:
        stat = file.stat()
    except OSError as error:
        raise MediaError(f"{file}: cannot read the media ({error.strerror or error})") from error
    memo_key = (str(file.resolve()), stat.st_size, stat.st_mtime_ns)
    if memo_key not in _hash_memo:
        digest = hashlib.sha256()
        with open(file, "rb") as handle:
            while chunk := handle.read(_HASH_CHUNK_BYTES):
                digest.update(chunk)
        _hash_memo[memo_key] = digest.hexdigest()
    return _hash_memo[memo_key]


@dataclass(frozen=True)
class EvidenceRecord:
    """One cached tool result: ``content`` is what the model read, ``artifact`` the full ``Finding`` dict."""

    key: str
    tool: str
    media_hash: str
    args: dict[str, Any]
    versions: dict[str, str]
    content: str
    artifact: dict[str, Any]
    created_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "tool": self.tool,
            "media_hash": self.media_hash,
            "args": self.args,
            "versions": self.versions,
            "content": self.content,
            "artifact": self.artifact,
            "created_s": self.created_s,
        }


def evidence_key(media_hash: str, tool: str, args: dict[str, Any], versions: dict[str, str]) -> str:
    """The cache key: a hash of the media content, tool name, arguments (``media`` excluded) and model versions."""
    identity = {
        "media": media_hash,
        "tool": tool,
        "args": {name: value for name, value in args.items() if name != "media"},
        "versions": versions,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()


class EvidenceCache:
    """Tool results on disk under ``root``, one JSON file per key."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> EvidenceRecord | None:
        """The record for ``key``, or None when absent or unreadable (an unreadable record is recomputed)."""
        path = self._path(key)
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return EvidenceRecord(**data)
        except (OSError, ValueError, TypeError) as error:
            log.warning("ignoring unreadable evidence record %s (%s)", path, error)
            return None

    def put(self, record: EvidenceRecord) -> None:
        payload = json.dumps(record.to_dict(), ensure_ascii=False, default=str).encode("utf-8")
        atomic_write_bytes(self._path(record.key), payload)

    def get_or_compute(
        self,
        media: str | Path,
        tool: str,
        args: dict[str, Any],
        versions: dict[str, str],
        compute: Callable[[], tuple[str, dict[str, Any]]],
        still_valid: Callable[[EvidenceRecord], bool] = lambda record: True,
    ) -> tuple[EvidenceRecord, bool]:
        """The cached record for this tool call, or ``compute()``'s (content, artifact) stored as one.

        Returns (record, was_cached). ``compute`` is not called on a hit; a hit that ``still_valid`` rejects (e.g.
        the file a tool wrote has been deleted since) is recomputed.
        """
        media_hash = content_hash(media)
        key = evidence_key(media_hash, tool, args, versions)
        cached = self.get(key)
        if cached is not None and still_valid(cached):
            return cached, True
        content, artifact = compute()
        record = EvidenceRecord(key, tool, media_hash, dict(args), dict(versions), content, artifact, time.time())
        self.put(record)
        return record, False

"""The page's record of each thread: which file it is about and every turn as shown (tools, frames, answer).

The conversation itself (what the agent remembers for follow-ups) lives in the same SQLite checkpointer as
``mien chat`` (``<home>/threads.sqlite``, keyed by the same thread id); this record only lets the page list
threads and re-render their turns with pictures. One JSON file per thread, written atomically.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from servers.web.protocol import MediaItem, ThreadRecord, ThreadSummary, Turn
from tools.errors import NotFoundError
from tools.settings import Settings
from tools.storage import atomic_write_bytes

THREAD_ID = re.compile(r"^[0-9a-f]{12}$")


class ThreadStore:
    def __init__(self, settings: Settings) -> None:
        self.root = settings.home / "web" / "threads"

    def _path(self, thread_id: str) -> Path:
        if not THREAD_ID.match(thread_id):
            raise NotFoundError(f"no thread has the id {thread_id[:40]!r}")
        return self.root / f"{thread_id}.json"

    def get(self, thread_id: str) -> ThreadRecord:
        try:
            return ThreadRecord.model_validate(json.loads(self._path(thread_id).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise NotFoundError(f"no thread has the id {thread_id!r}") from None

    def append(self, thread_id: str, media: MediaItem, turn: Turn) -> ThreadRecord:
        """Add ``turn`` to the thread (creating it, titled by its first question)."""
        try:
            record = self.get(thread_id)
        except NotFoundError:
            title = " ".join(turn.question.split())[:80]
            record = ThreadRecord(thread_id=thread_id, media_id=media.id, media_name=media.name, title=title,
                                  updated_s=time.time())
        record.turns.append(turn)
        record.updated_s = time.time()
        atomic_write_bytes(self._path(thread_id), record.model_dump_json().encode("utf-8"))
        return record

    def list(self) -> list[ThreadSummary]:
        """Every thread, most recently used first (an unreadable record is skipped)."""
        summaries: list[ThreadSummary] = []
        for path in self.root.glob("*.json") if self.root.exists() else []:
            try:
                record = ThreadRecord.model_validate(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
            summaries.append(ThreadSummary(
                thread_id=record.thread_id, media_id=record.media_id, media_name=record.media_name,
                title=record.title, updated_s=record.updated_s, turns=len(record.turns),
            ))
        return sorted(summaries, key=lambda s: -s.updated_s)

"""The web page's logic: uploads, perception overviews, and agent turns, each reported as a stream of events.

Heavy work (perception, a turn of the agent) runs one at a time in worker threads behind one lock: on a laptop two
perception passes at once only make both slower, and the chat model answers one question at a time anyway. The
agent session (chat model, tools, router, the ``mien chat`` thread store) opens on the first question and stays
open until the server stops.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from agent.session import AgentSession, new_thread_id
from servers.data_folder import DataFolder
from servers.web.events import Emit
from servers.web.overview import build_overview, cached_overview
from servers.web.protocol import AskRequest, MediaItem, Overview, ToolTiming, Turn
from servers.web.threads import ThreadStore
from servers.web.turn_evidence import turn_evidence
from servers.web.uploads import UploadStore
from tools.errors import AccessDeniedError, MediaError, NotFoundError
from tools.settings import Settings

log = logging.getLogger(__name__)

SessionOpener = Callable[[Settings], contextlib.AbstractContextManager[AgentSession]]
READ_CHUNK_BYTES = 1 << 20
# Folders of <home> whose pictures the page may fetch: the agent's annotated frames, the overview's plots.
PICTURE_FOLDERS = ("frames", "web/overview")
PRIVATE_FIELDS = {"media", "frames", "files"}


class WebServing:
    """Everything the routes call; ``session_opener`` lets a test or another front-end supply the agent session."""

    def __init__(self, settings: Settings, session_opener: SessionOpener | None = None) -> None:
        self.settings = settings
        self.uploads = UploadStore(settings)
        self.threads = ThreadStore(settings)
        self.work_lock = threading.Lock()
        self._opener: SessionOpener = session_opener or (lambda s: AgentSession.open(s))
        self._session: AgentSession | None = None
        self._stack = contextlib.ExitStack()

    # ---------------------------------------------------------------- files

    def picture_path(self, relative: str) -> Path:
        """A picture the page shows (key frame, timeline plot): only inside ``PICTURE_FOLDERS`` of ``<home>``,
        links followed; else ``AccessDeniedError``."""
        home = self.settings.home.expanduser().resolve()
        path = (home / relative).resolve()
        if not any(path.is_relative_to(home / folder) for folder in PICTURE_FOLDERS):
            raise AccessDeniedError(f"{relative} is not a picture the page may show")
        if not path.is_file():
            raise NotFoundError(f"no picture {relative}")
        return path

    def file_url(self, path: str | Path) -> str:
        home = self.settings.home.expanduser().resolve()
        return "/files/" + Path(path).resolve().relative_to(home).as_posix()

    async def open_path(self, requested: str) -> MediaItem:
        """Open a file already in the data folder (``MIEN_DATA_DIR``; relative paths resolve inside it, paths
        and links out of it are refused): it goes through the same checks as an upload."""
        path = DataFolder.of(self.settings).existing(requested)
        return await self.uploads.save(_file_chunks(path), path.name, path.stat().st_size)

    # ---------------------------------------------------------------- perception

    def overview(self, media_id: str, emit: Emit) -> Overview:
        """The overview of an upload, computed once (progress events while it runs) and then read from disk."""
        item = self.uploads.get(media_id)
        done = cached_overview(self.settings, media_id)
        if done is not None:
            return done
        emit("progress", {"stage": "queue", "fraction": 0.0, "message": "waiting for other work to finish"})
        with self.work_lock:
            done = cached_overview(self.settings, media_id)
            if done is not None:
                return done
            path = self.uploads.path(media_id)
            return build_overview(
                self.settings, item, path,
                lambda stage, fraction, message: emit(
                    "progress", {"stage": stage, "fraction": round(fraction, 3), "message": message}
                ),
            )

    # ---------------------------------------------------------------- agent turns

    def ask(self, request: AskRequest, emit: Emit) -> Turn:
        """One turn: tokens, tool starts and ends stream to ``emit``; the turn is stored in its thread."""
        item = self.uploads.get(request.media_id)
        path = self.uploads.path(request.media_id)
        thread_id = request.thread_id or new_thread_id()
        if request.thread_id is not None:
            record = self.threads.get(request.thread_id)
            if record.media_id != item.id:
                raise MediaError(f"thread {thread_id} is about {record.media_name}; start a new thread for this file")
        emit("thread", {"thread_id": thread_id})
        with self.work_lock:
            session = self._open_session(emit)
            started: dict[str, float] = {}

            def on_tool(event: dict[str, Any]) -> None:
                if event.get("event") == "tool_start":
                    started[str(event["tool"])] = time.perf_counter()
                    emit("tool", {"tool": event["tool"], "status": "running"})
                elif event.get("event") == "tool_done":
                    emit("tool", {"tool": event["tool"], "status": "error" if event.get("error") else "done",
                                  "seconds": round(float(event.get("seconds", 0.0)), 2),
                                  "cached": bool(event.get("cached")), "error": event.get("error")})

            answer = session.ask(
                request.question, [path], thread_id, None,
                on_token=lambda text: emit("token", {"text": text}), on_tool=on_tool,
            )
            shown = turn_evidence(session, thread_id, answer, self.settings.home / "frames",
                                  self.settings.agent_key_frames)
        turn = Turn(
            question=request.question,
            text=answer.text(),
            label=answer.label,
            explanation=answer.explanation,
            tools=[ToolTiming(tool=r["tool"], seconds=round(r["seconds"], 2), cached=r["cached"], error=r["error"])
                   for r in answer.tools],
            frames=[self.file_url(f) for f in shown.frames],
            facts=shown.facts,
            # Server paths stay on the server: the page gets the frames as URLs above.
            evidence=[{k: v for k, v in asdict(c).items() if k not in PRIVATE_FIELDS} for c in answer.evidence],
            prompt=answer.prompt,
            error=answer.error,
        )
        self.threads.append(thread_id, item, turn)
        return turn

    def _open_session(self, emit: Emit) -> AgentSession:
        if self._session is None:
            emit("progress", {"stage": "model", "fraction": 0.0, "message": "starting the chat model"})
            self._session = self._stack.enter_context(self._opener(self.settings))
            emit("progress", {"stage": "model", "fraction": 1.0, "message": "chat model ready"})
        return self._session

    def history(self, thread_id: str) -> dict[str, Any]:
        record = self.threads.get(thread_id)
        return {"thread": record.model_dump(), "media": self.uploads.get(record.media_id).model_dump()}

    def close(self) -> None:
        self._stack.close()
        self._session = None


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_CHUNK_BYTES):
            yield chunk


"""The agent behind ``mien serve agent``: one ``AgentSession`` (as ``mien ask`` opens it), one turn at a time.

A turn runs in a worker thread (the graph and its tools are blocking, CPU-bound code) under a lock, since the
session's SQLite checkpointer and the tools' per-file memos are shared. Streaming hands the turn's tokens and tool
events from that thread to the response through a queue; the answer itself is the same ``Answer`` either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from agent.answer import Answer
from agent.model import open_endpoint
from agent.session import AgentSession, new_thread_id, open_threads
from agent.state import PrivacyMode
from servers.agent_api.media import Turn
from tools.errors import MienError
from tools.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TurnEvent:
    """What a streaming turn yields: a piece of answer ``text``, a tool ``event``, or the final ``answer``."""

    text: str | None = None
    event: dict[str, Any] | None = None
    answer: Answer | None = None
    error: MienError | None = None


@dataclass
class AgentRunner:
    """The agent session, opened once (``start``: the chat endpoint as ``mien ask`` resolves it, ``model_url``,
    else ``MIEN_LLM_BASE_URL``, else the embedded server, started here) and closed on shutdown."""

    settings: Settings
    model_url: str | None = None
    chat_model: str = "not started"
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _session: AgentSession | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        endpoint = self._stack.enter_context(open_endpoint(self.settings, self.model_url))
        threads = self._stack.enter_context(open_threads(self.settings))
        self._session = AgentSession.for_endpoint(endpoint, self.settings, threads)
        self.chat_model = f"{endpoint.model} at {endpoint.base_url}"

    def close(self) -> None:
        self._stack.close()
        self._session = None

    @property
    def session(self) -> AgentSession:
        if self._session is None:
            raise MienError("the agent is not started")
        return self._session

    def ask(
        self,
        turn: Turn,
        thread: str | None,
        privacy: PrivacyMode | None,
        on_token: Callable[[str], None] | None = None,
        on_tool: Callable[[dict[str, Any]], None] | None = None,
    ) -> tuple[str, Answer]:
        """Run one turn (blocking): the thread it ran in and the answer."""
        thread_id = thread or new_thread_id()
        paths = [str(item.path) for item in turn.media]
        with self._lock:
            answer = self.session.ask(turn.question, paths, thread_id, privacy, on_token=on_token, on_tool=on_tool)
        return thread_id, answer

    async def stream(self, turn: Turn, thread_id: str, privacy: PrivacyMode | None) -> AsyncIterator[TurnEvent]:
        """The turn's events as they happen, ending with the answer (or the ``MienError`` that stopped it)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[TurnEvent | None] = asyncio.Queue()

        def put(event: TurnEvent | None) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, event)

        def work() -> None:
            try:
                _, answer = self.ask(
                    turn,
                    thread_id,
                    privacy,
                    on_token=lambda text: put(TurnEvent(text=text)),
                    on_tool=lambda event: put(TurnEvent(event=event)),
                )
                put(TurnEvent(answer=answer))
            except MienError as error:
                put(TurnEvent(error=error))
            except Exception as error:  # a bug of ours: logged; the client is told, the server keeps serving
                log.exception("agent turn failed")
                put(TurnEvent(error=MienError(f"internal error in the agent ({type(error).__name__})")))
            finally:
                put(None)

        worker = threading.Thread(target=work, name=f"agent-turn-{thread_id}", daemon=True)
        worker.start()
        while (event := await queue.get()) is not None:
            yield event

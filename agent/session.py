"""An agent session: the endpoint, the tools, the router, the evidence cache and the thread store, opened together.

``mien ask``, ``mien chat``, the tests and the benchmark all go through ``AgentSession.open`` and ``ask``; the
session streams the answer's tokens and the tools' progress to callbacks and returns the ``Answer``.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk
from langchain_core.tools import BaseTool
from langgraph.checkpoint.sqlite import SqliteSaver

from agent.answer import Answer
from agent.evidence import EvidenceCache
from agent.explain import STRUCTURED_TAG
from agent.graph import AgentParts, build_graph, turn_input
from agent.model import ChatEndpoint, open_endpoint
from agent.router import SemanticRouter
from agent.state import PrivacyMode
from agent.thread_lock import setup_lock, thread_turn
from tools.errors import ConfigError
from tools.langchain_tools import build_tools
from tools.media import probe_media
from tools.recognition import PlainGallery
from tools.settings import Settings, get_settings
from tools.text_embedding import get_text_embedder

TokenCallback = Callable[[str], None]
ToolCallback = Callable[[dict[str, Any]], None]
PRIVACY_MODES: tuple[PrivacyMode, ...] = ("local", "deidentified")


def use_torch_threads(settings: Settings) -> None:
    """Pin torch's CPU threads (``MIEN_TORCH_THREADS``): on a busy machine torch's default of one thread per core
    made a single MiniLM routing query 12x slower (1.0 s against 0.08 s measured on 2 shared cores)."""
    import torch

    torch.set_num_threads(settings.torch_threads)


def new_thread_id() -> str:
    return uuid.uuid4().hex[:12]


def threads_path(settings: Settings) -> Path:
    return settings.home / "threads.sqlite"


class AgentSession:
    """A compiled graph with everything it needs; ``ask`` runs one turn of a thread."""

    def __init__(
        self,
        chat: BaseChatModel,
        *,
        base_url: str,
        native_tools: bool,
        vision: bool,
        settings: Settings,
        checkpointer: SqliteSaver,
        tools: Sequence[BaseTool] | None = None,
        structured: bool = False,
    ) -> None:
        self.settings = settings
        use_torch_threads(settings)
        self.tools = list(tools) if tools is not None else build_tools(settings)
        embedder = get_text_embedder()
        router = SemanticRouter(self.tools, embedder.encode, settings.router_min_score, settings.router_margin)
        parts = AgentParts(
            chat=chat,
            base_url=base_url,
            tools=self.tools,
            router=router,
            cache=EvidenceCache(settings.home / "evidence"),
            settings=settings,
            native_tools=native_tools,
            vision=vision,
            enrolled_names=lambda: [name for name, _ in PlainGallery(settings.resolved_gallery_path).names()],
            structured=structured,
        )
        self.graph = build_graph(parts, checkpointer)

    @classmethod
    @contextlib.contextmanager
    def open(
        cls,
        settings: Settings | None = None,
        model_url: str | None = None,
        tools: Sequence[BaseTool] | None = None,
    ) -> Iterator[AgentSession]:
        """A session on the configured endpoint (or ``model_url``); the embedded server, if started, stops on exit."""
        settings = settings or get_settings()
        with open_endpoint(settings, model_url) as endpoint, open_threads(settings) as checkpointer:
            yield cls.for_endpoint(endpoint, settings, checkpointer, tools)

    @classmethod
    def for_endpoint(
        cls,
        endpoint: ChatEndpoint,
        settings: Settings,
        checkpointer: SqliteSaver,
        tools: Sequence[BaseTool] | None = None,
    ) -> AgentSession:
        return cls(
            endpoint.chat_model(settings),
            base_url=endpoint.base_url,
            native_tools=endpoint.native_tools,
            vision=endpoint.vision,
            settings=settings,
            checkpointer=checkpointer,
            tools=tools,
            structured=endpoint.structured_answers(settings),
        )

    def ask(
        self,
        question: str,
        media: Sequence[str | Path],
        thread_id: str,
        privacy: PrivacyMode | None = None,
        on_token: TokenCallback | None = None,
        on_tool: ToolCallback | None = None,
    ) -> Answer:
        """One turn: ``question`` about ``media`` in thread ``thread_id``. Unreadable media raise ``MediaError``
        before the thread is touched, so it stays usable."""
        mode = privacy or self.settings.agent_privacy
        if mode not in PRIVACY_MODES:
            raise ConfigError(f"unknown privacy mode {mode!r}; choose one of {', '.join(PRIVACY_MODES)}")
        if not question.strip():
            raise ConfigError("the question is empty")
        paths = [str(probe_media(path, self.settings).path) for path in media]
        config = {"configurable": {"thread_id": thread_id}}
        with thread_turn(self.settings.home, thread_id):  # one turn at a time per thread, across processes
            for mode_name, chunk in self.graph.stream(
                turn_input(question, paths, mode), config, stream_mode=["messages", "custom"]
            ):
                if mode_name == "messages":
                    message, metadata = chunk
                    structured = STRUCTURED_TAG in (metadata.get("tags") or [])  # JSON to be rendered, not prose
                    node = metadata.get("langgraph_node")
                    if on_token and node == "answer" and not structured and isinstance(message, AIMessageChunk):
                        text = message.content if isinstance(message.content, str) else ""
                        if text:
                            on_token(text)
                elif mode_name == "custom" and isinstance(chunk, dict) and chunk.get("event") == "answer_text":
                    if on_token and chunk.get("text"):
                        on_token(str(chunk["text"]))  # a grounded answer's prose, rendered and checked
                elif mode_name == "custom" and on_tool is not None:
                    on_tool(chunk)
            values = self.graph.get_state(config).values
        return Answer.from_dict(values["answer"])

    def history(self, thread_id: str) -> list[tuple[str, str]]:
        """(question, answer text) pairs of a thread so far."""
        values = self.graph.get_state({"configurable": {"thread_id": thread_id}}).values
        pairs: list[tuple[str, str]] = []
        question: str | None = None
        for message in values.get("messages", []):
            if message.type == "human":
                question = str(message.content)
            elif message.type == "ai" and not getattr(message, "tool_calls", None) and question is not None:
                pairs.append((question, str(message.content)))
                question = None
        return pairs


@contextlib.contextmanager
def open_threads(settings: Settings) -> Iterator[SqliteSaver]:
    """LangGraph's SQLite checkpointer on ``<home>/threads.sqlite``."""
    path = threads_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    # WAL and a busy timeout: two processes on one home (two `mien chat`) read while the other writes, and wait
    # for each other's writes instead of failing with "database is locked". Switching a new file to WAL and
    # creating the tables is done by one process at a time (a file lock): two `mien chat` started together on a
    # fresh home raced there, and SQLite can refuse a journal-mode change at once, without its busy timeout.
    with setup_lock(settings.home, "threads"):
        connection = sqlite3.connect(str(path), check_same_thread=False, timeout=30.0)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            saver = SqliteSaver(connection)
            saver.setup()
        except BaseException:
            connection.close()
            raise
    try:
        yield saver
    finally:
        connection.close()

"""The agent graph over a scripted tool-calling model and real tools (the model's stand-in only; see
``tests/agent/scripted.py``), for driving the calls an obedient model would make after reading an injection."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool

from agent.evidence import EvidenceCache
from agent.graph import AgentParts, build_graph, turn_input
from agent.router import SemanticRouter
from agent.session import use_torch_threads
from agent.untrusted import TAG
from tools.settings import get_settings
from tools.text_embedding import get_text_embedder

FENCED = re.compile(rf"<{TAG}[^>]*>.*?</{TAG}>", re.DOTALL)


class Agent:
    """A graph (in-memory thread) over ``model`` and ``tools``; ``ask`` returns the final state."""

    def __init__(self, model: BaseChatModel, tools: Sequence[BaseTool], vision: bool = False) -> None:
        settings = get_settings()
        use_torch_threads(settings)
        router = SemanticRouter(tools, get_text_embedder().encode, settings.router_min_score, settings.router_margin)
        parts = AgentParts(
            model,
            "http://scripted/v1",
            tools,
            router,
            EvidenceCache(settings.home / "evidence"),
            settings,
            native_tools=True,
            vision=vision,
        )
        self.graph = build_graph(parts)

    def ask(self, question: str, media: list[str], callbacks: Sequence[Any] = ()) -> dict[str, Any]:
        state: dict[str, Any] = self.graph.invoke(
            turn_input(question, media, "local"), {"callbacks": list(callbacks)} if callbacks else None
        )
        return state


def text_of(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in content)


def tool_results(state: dict[str, Any]) -> list[ToolMessage]:
    return [message for message in state["messages"] if isinstance(message, ToolMessage)]


def systems(sent: list[BaseMessage]) -> list[str]:
    return [text_of(message) for message in sent if isinstance(message, SystemMessage)]


def unfenced(text: str) -> str:
    """``text`` with every fenced span removed: what the model reads as anything but media content."""
    return FENCED.sub("", text)


class Sent(BaseCallbackHandler):
    """Records every message list a chat model is sent (for a real model, where the scripted one records itself)."""

    def __init__(self) -> None:
        self.received: list[list[BaseMessage]] = []

    def on_chat_model_start(self, serialized: Any, messages: list[list[BaseMessage]], **kwargs: Any) -> None:
        self.received += [list(batch) for batch in messages]

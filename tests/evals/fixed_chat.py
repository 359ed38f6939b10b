"""A chat model stand-in for the evaluation tests' wiring: it answers every prompt by restating the first evidence
line of the prompt it was sent (so its prose is grounded when the evidence is there, and says so when not).

Only the model is replaced: the agent graph, router, tools, evidence cache, inspect's runner, the scorers and the
logs under test are real.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from agent.session import AgentSession, open_threads
from tools.langchain_tools import build_tools
from tools.settings import get_settings


class EvidenceEcho(BaseChatModel):
    """Replies "The tools report: <first evidence line>." (or that no tool was run)."""

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = str(messages[-1].content)
        lines = [line[2:].strip() for line in text.splitlines() if line.startswith("- ") and " on " in line]
        reply = f"The tools report: {lines[0]}." if lines else "No tool measured anything for this question."
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply))])

    @property
    def _llm_type(self) -> str:
        return "evidence-echo"


# The tools the smoke suite's questions need, and one more the router can fall back on; a fixed set keeps the
# test independent of tools added later (and of slow ones such as cloaking).
SMOKE_TOOLS = ("find_faces", "read_emotions", "transcribe_speech")


def echo_sessions(without: Sequence[str] = (), only: Sequence[str] = SMOKE_TOOLS) -> Any:
    """A session factory for ``mien_agent``: the real agent over ``EvidenceEcho``, routing with the real router,
    with the tools ``only`` except ``without``."""

    def open_session(stack: contextlib.ExitStack) -> AgentSession:
        settings = get_settings()
        saver = stack.enter_context(open_threads(settings))
        tools = [t for t in build_tools(settings) if t.name in set(only) and t.name not in set(without)]
        return AgentSession(
            EvidenceEcho(),
            base_url="scripted://evidence-echo",
            native_tools=False,
            vision=False,
            settings=settings,
            checkpointer=saver,
            tools=tools,
        )

    return open_session

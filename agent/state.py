"""The agent's state: one conversation about some media, persisted per thread by the checkpointer.

Everything here is plain JSON-able data or LangChain messages, so the SQLite checkpointer stores it without custom
serializers. Tool results themselves live in the evidence cache; the state keeps their records.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

PrivacyMode = Literal["local", "deidentified"]
PromptStyle = Literal["sovtp", "deemo", "plain"]


class ToolRun(TypedDict):
    """One tool call of this turn: which tool, on what, whether the cache answered, how long it took."""

    tool: str
    args: dict[str, Any]
    cached: bool
    seconds: float
    error: str | None
    evidence_key: str | None


class AgentState(TypedDict, total=False):
    """The graph's state.

    ``messages``: the conversation (questions, tool calls, tool results, answers), appended by ``add_messages``.
    ``media``: paths of the media in play. ``privacy``: what may leave the machine. ``style``: the reasoning
    prompt chosen for this turn. ``runs``: this turn's tool runs. ``evidence``: artifacts (``Finding`` dicts) of
    every tool result of the thread, keyed by evidence key; ``turn_evidence``: the keys this turn's tools gave, in
    call order. ``answer``: this turn's ``Answer`` dict.
    ``rounds``: tool-calling rounds used this turn. ``focus``: the ``Focus`` the question names, as a dict.
    ``error``: why the model could not be asked this turn (the answer then carries the evidence alone).
    ``answered_evidence``: the evidence keys the last answer rested on; a follow-up that runs no tool reuses them.
    """

    messages: Annotated[list[AnyMessage], add_messages]
    media: list[str]
    privacy: PrivacyMode
    style: PromptStyle
    runs: list[ToolRun]
    evidence: dict[str, dict[str, Any]]
    turn_evidence: list[str]
    answer: dict[str, Any] | None
    rounds: int
    focus: dict[str, Any]
    error: str | None
    answered_evidence: list[str]

"""The solver: Mien's LangGraph agent itself, over the endpoint under test, answering each case's turns in one thread.

inspect evaluates "a model" with solvers; here the thing evaluated is the agent users run (``mien ask``): the same
``AgentSession`` (router or native tool calls, the evidence cache, the reasoning prompts, the grounded answer),
on ``model_url`` (any OpenAI-compatible endpoint; none: the embedded llama.cpp server, started once for the run).
inspect's own model is therefore ``none`` (its documented sentinel for "no model"); the solver never calls it.

What each turn did (the ``Answer``, the full findings it rested on, the prompt style, the time) is written to the
sample's store as ``TurnRecord``s, so the log holds everything the scorers, ``mien eval report`` and
``mien eval diff`` read.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import anyio
from inspect_ai.model import ChatMessageAssistant, ChatMessageUser, ModelOutput
from inspect_ai.solver import Generate, Solver, TaskState, solver

from agent.session import AgentSession
from evals.inspect.media import resolve
from evals.inspect.spec import Case, TurnRecord

TURNS_KEY = "mien_turns"
SessionFactory = Callable[[contextlib.ExitStack], AgentSession]


def endpoint_sessions(model_url: str | None, without_tools: Sequence[str] = ()) -> SessionFactory:
    """Sessions on ``model_url`` (None: the configured endpoint, else the embedded server) with every tool except
    ``without_tools`` (an ablation: what the agent does without them)."""

    def open_session(stack: contextlib.ExitStack) -> AgentSession:
        from tools.langchain_tools import build_tools
        from tools.settings import get_settings

        settings = get_settings()
        tools = [tool for tool in build_tools(settings) if tool.name not in set(without_tools)]
        return stack.enter_context(AgentSession.open(settings, model_url, tools))

    return open_session


class SessionPool:
    """One agent session for the whole run, opened on first use (the embedded server starts once) and closed at
    exit; turns are asked one at a time (the session's thread store and a local model are not for concurrent use)."""

    def __init__(self, factory: SessionFactory) -> None:
        self._factory = factory
        self._stack = contextlib.ExitStack()
        self._session: AgentSession | None = None
        self.lock = threading.Lock()
        atexit.register(self.close)

    def get(self) -> AgentSession:
        if self._session is None:
            self._session = self._factory(self._stack)
        return self._session

    def close(self) -> None:
        self._session = None
        self._stack.close()


_POOLS: dict[tuple[str | None, tuple[str, ...]], SessionPool] = {}


def close_sessions() -> None:
    """Close every shared session (stops the embedded server they started)."""
    while _POOLS:
        _POOLS.popitem()[1].close()


def ask_turns(pool: SessionPool, case: Case, thread_id: str, privacy: str | None) -> list[TurnRecord]:
    """Every turn of ``case`` in one thread, with what the agent did (blocking: run it in a worker thread)."""
    paths = [str(resolve(media)) for media in case.media]
    records: list[TurnRecord] = []
    with pool.lock:
        session = pool.get()
        enroll(case, session)
        config = {"configurable": {"thread_id": thread_id}}
        for turn in case.turns:
            started = time.perf_counter()
            answer = session.ask(turn.question, paths, thread_id, case.privacy or privacy)  # type: ignore[arg-type]
            seconds = time.perf_counter() - started
            values = session.graph.get_state(config).values
            evidence = values.get("evidence", {})
            findings = [evidence[key] for key in values.get("answered_evidence", []) if key in evidence]
            records.append(
                TurnRecord(
                    question=turn.question,
                    answer=answer.to_dict(),
                    findings=findings,
                    style=values.get("style"),
                    seconds=round(seconds, 3),
                    error=answer.error,
                )
            )
    return records


def enroll(case: Case, session: AgentSession) -> None:
    """Enroll the case's people in the session's plaintext gallery, once per name."""
    if not case.enroll:
        return
    from tools.recognition import PlainGallery
    from tools.recognition.service import enroll_photos

    gallery = PlainGallery(session.settings.resolved_gallery_path)
    known = {name for name, _ in gallery.names()}
    for name, photos in case.enroll.items():
        if name not in known:
            enroll_photos(gallery, name, [resolve(photo) for photo in photos], largest=True)


@solver
def mien_agent(
    model_url: str | None = None,
    privacy: str | None = None,
    without_tools: Sequence[str] = (),
    session_factory: SessionFactory | None = None,
) -> Solver:
    """Answer the sample's case with Mien's agent; ``session_factory`` replaces the endpoint (tests script it)."""
    if session_factory is not None:
        pool = SessionPool(session_factory)
    else:  # suites of one run share the session (one embedded server), per endpoint and ablation
        key = (model_url, tuple(sorted(without_tools)))
        pool = _POOLS.get(key) or _POOLS.setdefault(key, SessionPool(endpoint_sessions(model_url, without_tools)))

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        case = Case.model_validate(state.metadata["case"])
        thread_id = f"eval-{state.sample_id}-{state.epoch}-{uuid.uuid4().hex[:6]}"
        records = await anyio.to_thread.run_sync(ask_turns, pool, case, thread_id, privacy)
        state.store.set(TURNS_KEY, [record.model_dump(mode="json") for record in records])
        for index, record in enumerate(records):
            if index > 0:
                state.messages.append(ChatMessageUser(content=record.question))
            state.messages.append(ChatMessageAssistant(content=_answer_text(record), model="mien-agent"))
        state.output = ModelOutput.from_content("mien-agent", _answer_text(records[-1]))
        return state

    return solve


def _answer_text(record: TurnRecord) -> str:
    from agent.answer import Answer

    return Answer.from_dict(dict(record.answer)).text()


def turn_records(state: Any) -> list[TurnRecord]:
    """The turn records of a ``TaskState`` (scorers) or a logged ``EvalSample`` (reports)."""
    store = state.store
    raw = store.get(TURNS_KEY, []) if hasattr(store, "get") else []
    return [TurnRecord.model_validate(item) for item in raw or []]

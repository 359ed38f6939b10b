"""The agent graph: plan → act → answer, on one message state.

``plan`` understands the question (its focus: a person, a side, a time) and chooses tools — by the model's native
tool calls when the endpoint has them, else by the semantic router (once per question). ``act`` runs the calls
through the evidence cache, so a tool never runs twice on the same file; bad calls (unknown tool, malformed or
invalid arguments, media not in play) become error results the model can read, never crashes. With native tool
calls ``act`` loops back to ``plan`` until the model stops calling tools or the round limit is hit. ``answer``
writes the reasoning prompt (SoVTP, DEEMO or plain) with key frames, asks the model for its explanation, and
builds the ``Answer`` whose label comes from the evidence. Everything sent to the model passes ``PrivacyGuard``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AnyMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, ValidationError

from agent.answer import Answer, Citation, evidence_label
from agent.evidence import EvidenceCache, EvidenceRecord
from agent.explain import GROUNDED_VERSION, explain
from agent.facts import findings_facts
from agent.failures import endpoint_failure
from agent.focus import narrow_to_focus
from agent.grounding import Evidence
from agent.model import service_error
from agent.privacy import PrivacyGuard, names_on_screen
from agent.reasoning import ReasoningPrompt, reasoning_prompt
from agent.router import Focus, SemanticRouter, parse_focus
from agent.state import AgentState, PromptStyle, ToolRun
from agent.untrusted import fence_tool_content, with_rule
from tools.access import AccessPolicy, policy_scope
from tools.errors import MienError
from tools.langchain_tools.base import tool_versions, tool_write_args
from tools.langchain_tools.types import Finding
from tools.media import probe_media
from tools.settings import Settings

log = logging.getLogger(__name__)

HISTORY_TURNS = 2  # earlier question/answer pairs the answer prompt repeats, for follow-ups

SYSTEM_TOOLS = with_rule(
    "You are Mien, an assistant that answers questions about faces, people and emotions in media files by "
    "calling perception tools. Media in play: {media}. Call the tools you need with `media` set to one of these "
    "paths; when you have the evidence, stop calling tools."
)
SYSTEM_ANSWER = with_rule(
    "You are Mien. You explain what perception tools measured in images, videos and audio. Be brief and factual, "
    "refer to people by their numbers, and never invent measurements."
)


@dataclass
class AgentParts:
    """What the graph's nodes use: the chat model and where it lives, the tools, the router, the cache, settings.

    ``native_tools``: plan with the model's tool calls (else the router). ``vision``: send key frames as images.
    ``enrolled_names``: the gallery's names, for the privacy guard.
    """

    chat: BaseChatModel
    base_url: str
    tools: Sequence[BaseTool]
    router: SemanticRouter
    cache: EvidenceCache
    settings: Settings
    native_tools: bool
    vision: bool
    enrolled_names: Callable[[], list[str]] = list
    structured: bool = False  # grounded JSON answers (agent.explain) instead of free prose


def build_graph(parts: AgentParts, checkpointer: BaseCheckpointSaver[Any] | None = None) -> Any:
    """The compiled graph; threads persist in ``checkpointer`` (none: in memory only for one call)."""
    tools = {tool.name: tool for tool in parts.tools}

    def plan(state: AgentState) -> dict[str, Any]:
        question = _question(state["messages"])
        route = parts.router.plan(question, state["media"], media_kinds(state["media"]))
        update: dict[str, Any] = {
            "style": route.style,
            "focus": parse_focus(question).to_dict(),
            "rounds": state.get("rounds", 0) + 1,
        }
        if not parts.native_tools:
            if route.tool_calls and state.get("rounds", 0) == 0:
                update["messages"] = [AIMessage(content="", tool_calls=route.tool_calls)]
            return update
        system = SystemMessage(SYSTEM_TOOLS.format(media=", ".join(state["media"])))
        guard = _guard(parts, state)
        guarded = guard.messages([system, *state["messages"]])  # a bug here is ours, not the model's
        try:
            reply = parts.chat.bind_tools(list(parts.tools)).invoke(guarded)
        except Exception as error:  # the endpoint's failure is reported in the answer, the thread goes on
            if not endpoint_failure(error):
                raise  # a bug of ours: reported as an internal error, never blamed on the model
            update["error"] = str(service_error(error, parts.base_url, parts.settings.agent_request_timeout_s))
            return update
        if isinstance(reply, AIMessage) and (reply.tool_calls or reply.invalid_tool_calls):
            update["messages"] = [reply]
        return update

    def act(state: AgentState) -> dict[str, Any]:
        call_message = state["messages"][-1]
        assert isinstance(call_message, AIMessage)
        results: list[BaseMessage] = []
        runs = list(state.get("runs", []))
        evidence = dict(state.get("evidence", {}))
        turn = list(state.get("turn_evidence", []))
        for call in call_message.tool_calls:
            message, run = _run_call(parts, tools, call, state["media"])
            results.append(message)
            runs.append(run)
            if run["evidence_key"] is not None and isinstance(message, ToolMessage):
                evidence[run["evidence_key"]] = message.artifact
                turn.append(run["evidence_key"])
        for bad in call_message.invalid_tool_calls:
            error = f"the arguments of {bad.get('name')!r} are not valid JSON ({bad.get('error') or bad.get('args')})"
            results.append(_error_result(str(bad.get("id") or ""), str(bad.get("name") or "unknown"), error))
            runs.append(
                ToolRun(tool=str(bad.get("name")), args={}, cached=False, seconds=0.0, error=error, evidence_key=None)
            )
        return {"messages": results, "runs": runs, "evidence": evidence, "turn_evidence": list(dict.fromkeys(turn))}

    def answer(state: AgentState) -> dict[str, Any]:
        question = _question(state["messages"])
        focus = Focus(**state.get("focus", {}))
        findings = narrow_to_focus(_findings(state), focus)  # a question about one person: their evidence only
        style, faces_allowed = _style(state.get("style", "plain"), state.get("privacy", "local"), findings)
        guard = _guard(parts, state)
        error = state.get("error")

        def compose(with_images: bool) -> ReasoningPrompt:
            return reasoning_prompt(
                question,
                findings,
                style,
                focus,
                vision=with_images,
                guard=guard,
                frames_dir=parts.settings.home / "frames",
                key_frames=parts.settings.agent_key_frames,
                faces_allowed=faces_allowed,
                max_words=_max_words(parts.settings),
            )

        try:
            prompt = compose(parts.vision)
        except MienError as failure:  # e.g. a frame that no longer decodes: answer without images
            log.warning("key frames unavailable: %s", failure)
            prompt = compose(False)
        explanation = ""
        grounding: dict[str, Any] = {}
        if error is None and parts.structured:
            try:
                grounded = explain(
                    parts.chat,
                    question,
                    findings_facts(findings, with_faces=faces_allowed),
                    Evidence.of(findings, question),
                    evidence_label(findings, focus),
                    history=_history(state["messages"]),
                    guard=guard.messages,
                    retries=parts.settings.agent_grounding_retries,
                    images=_image_parts(prompt.message),
                )
            except Exception as failure:
                if not endpoint_failure(failure):
                    raise
                error = str(service_error(failure, parts.base_url, parts.settings.agent_request_timeout_s))
            else:
                explanation = grounded.text
                grounding = {
                    "method": grounded.method,
                    "problems": grounded.problems,
                    "model_label": grounded.model_label,
                }
                get_stream_writer()({"event": "answer_text", "text": explanation})
            prompt = ReasoningPrompt(prompt.message, GROUNDED_VERSION, prompt.frames)
        elif error is None:
            messages = guard.messages([SystemMessage(SYSTEM_ANSWER), *_history(state["messages"]), prompt.message])
            try:
                reply = parts.chat.invoke(messages)
            except Exception as failure:
                if not endpoint_failure(failure):
                    raise  # a bug of ours: reported as an internal error, never blamed on the model
                error = str(service_error(failure, parts.base_url, parts.settings.agent_request_timeout_s))
            else:
                explanation = _text(reply.content).strip()
        citations = [Citation.from_finding(f, prompt.frames.get(f"{f.media}|{f.tool}")) for f in findings]
        result = Answer(
            question=question,
            label=evidence_label(findings, focus),
            explanation=explanation,
            evidence=citations,
            tools=list(state.get("runs", [])),
            prompt=prompt.version,
            privacy=state.get("privacy", "local"),
            error=error,
            **grounding,
        )
        used = state.get("turn_evidence") or state.get("answered_evidence", [])
        return {"messages": [AIMessage(content=result.text())], "answer": result.to_dict(), "answered_evidence": used}

    def after_plan(state: AgentState) -> str:
        last = state["messages"][-1]
        has_calls = isinstance(last, AIMessage) and bool(last.tool_calls or last.invalid_tool_calls)
        return "act" if has_calls and not state.get("error") else "answer"

    def after_act(state: AgentState) -> str:
        more = parts.native_tools and state.get("rounds", 0) < parts.settings.agent_max_tool_rounds
        return "plan" if more else "answer"

    graph = StateGraph(AgentState)
    graph.add_node("plan", plan)
    graph.add_node("act", act)
    graph.add_node("answer", answer)
    graph.add_edge(START, "plan")
    graph.add_conditional_edges("plan", after_plan, ["act", "answer"])
    graph.add_conditional_edges("act", after_act, ["plan", "answer"])
    graph.add_edge("answer", END)
    return graph.compile(checkpointer=checkpointer)


def _max_words(settings: Settings) -> int:
    """Words to ask for: about 0.6 of the token budget, so that the answer ends before it is cut off."""
    return max(20, int(settings.agent_answer_max_tokens * 0.6))


def turn_input(question: str, media: Sequence[str], privacy: str) -> dict[str, Any]:
    """The graph input for a new question: the message, and this turn's fields reset."""
    return {
        "messages": [HumanMessage(content=question)],
        "media": [str(path) for path in media],
        "privacy": privacy,
        "runs": [],
        "turn_evidence": [],
        "answer": None,
        "rounds": 0,
        "error": None,
    }


def media_kinds(media: Sequence[str]) -> dict[str, set[str]]:
    """What each file holds: {"image"}, {"video"}, {"video", "audio"} or {"audio"}."""
    kinds: dict[str, set[str]] = {}
    for path in media:
        info = probe_media(path)
        kinds[path] = {info.kind} | ({"audio"} if info.has_audio else set())
    return kinds


def _run_call(
    parts: AgentParts, tools: dict[str, BaseTool], call: Any, media: Sequence[str]
) -> tuple[ToolMessage, ToolRun]:
    """Run one tool call through the cache; every failure becomes an error result naming the problem."""
    name, call_id = str(call["name"]), str(call.get("id") or "")
    args = dict(call.get("args") or {})
    started = time.perf_counter()

    def failed(error: str) -> tuple[ToolMessage, ToolRun]:
        run = ToolRun(
            tool=name, args=args, cached=False, seconds=time.perf_counter() - started, error=error, evidence_key=None
        )
        _emit(run)
        return _error_result(call_id, name, error), run

    tool = tools.get(name)
    if tool is None:
        return failed(f"there is no tool {name!r}; the tools are: {', '.join(tools)}")
    if not args.get("media") and len(media) == 1:
        args["media"] = media[0]
    resolved = _media_in_play(str(args.get("media", "")), media)
    if resolved is None:
        return failed(f"{args.get('media')!r} is not a media file in play; use one of: {', '.join(media)}")
    args["media"] = resolved
    schema = tool.tool_call_schema
    try:
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            args = schema.model_validate(args).model_dump()
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        return failed(f"invalid arguments for {name}: {problems}")
    # The model chose these arguments, perhaps told to by words in the media: only files in play are read, only
    # the output folders written (tools.access), checked here and again by every reader and writer during the run.
    policy = AccessPolicy.for_media(media, parts.settings)
    try:
        policy.check_tool_args(name, args, tool_write_args(tool))
    except MienError as error:
        return failed(str(error))

    def compute() -> tuple[str, dict[str, Any]]:
        with policy_scope(policy):
            message = tool.invoke({"name": name, "args": args, "id": call_id, "type": "tool_call"})
        return str(message.content), dict(message.artifact or {})

    def files_exist(record: EvidenceRecord) -> bool:
        return all(Path(path).exists() for path in record.artifact.get("files", []))

    get_stream_writer()({"event": "tool_start", "tool": name, "args": args})
    try:
        record, cached = parts.cache.get_or_compute(resolved, name, args, tool_versions(tool), compute, files_exist)
    except MienError as error:
        return failed(f"{name} failed: {error}")
    except Exception as error:  # a bug in a tool must not end the conversation; its traceback shows under --debug
        log.debug("tool %s failed", name, exc_info=True)
        return failed(f"{name} failed unexpectedly: {type(error).__name__}: {error}")
    run = ToolRun(
        tool=name, args=args, cached=cached, seconds=time.perf_counter() - started, error=None, evidence_key=record.key
    )
    _emit(run)
    # The model reads the result with the media's words fenced as untrusted content (agent.untrusted).
    content = fence_tool_content(record.content, record.artifact)
    return ToolMessage(content=content, tool_call_id=call_id, name=name, artifact=record.artifact), run


def _emit(run: ToolRun) -> None:
    get_stream_writer()({"event": "tool_done", **run})


def _error_result(call_id: str, name: str, error: str) -> ToolMessage:
    return ToolMessage(content=f"error: {error}", tool_call_id=call_id, name=name, status="error")


def _media_in_play(requested: str, media: Sequence[str]) -> str | None:
    """The media path in play that ``requested`` names (full path, or file name alone), if any."""
    for path in media:
        if requested in (path, Path(path).name) or (requested and Path(requested).resolve() == Path(path).resolve()):
            return path
    return None


def _image_parts(message: BaseMessage) -> list[dict[str, Any]]:
    """The key frames a reasoning prompt carries (none for a text-only endpoint), as OpenAI content parts."""
    if not isinstance(message.content, list):
        return []
    return [part for part in message.content if isinstance(part, dict) and part.get("type") == "image_url"]


def _question(messages: Sequence[AnyMessage]) -> str:
    human = next(message for message in reversed(messages) if isinstance(message, HumanMessage))
    return _text(human.content)


def _text(content: str | list[Any]) -> str:
    if isinstance(content, str):
        return content
    return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in content)


def _findings(state: AgentState) -> list[Finding]:
    """This turn's findings in call order; for a follow-up that ran no tool, those the last answer rested on."""
    evidence = state.get("evidence", {})
    keys = state.get("turn_evidence") or state.get("answered_evidence", [])
    return [Finding.from_dict(evidence[key]) for key in keys if key in evidence]


def _style(style: PromptStyle, privacy: str, findings: list[Finding]) -> tuple[PromptStyle, bool]:
    """The prompt to use and whether facial evidence may be in it.

    The router's "deemo" means the user asked to leave faces out; privacy mode turns SoVTP into DEEMO but keeps
    the measured expression numbers (they identify nobody).
    """
    if not findings:
        return "plain", True
    if style == "deemo":
        return "deemo", False
    if privacy == "deidentified" and style == "sovtp":
        return "deemo", True
    return style, True


def _guard(parts: AgentParts, state: AgentState) -> PrivacyGuard:
    findings = [Finding.from_dict(artifact) for artifact in state.get("evidence", {}).values()]
    enrolled = parts.enrolled_names() if state.get("privacy") == "deidentified" else []
    return PrivacyGuard(state.get("privacy", "local"), names_on_screen(findings), enrolled)


def _history(messages: Sequence[AnyMessage]) -> list[BaseMessage]:
    """Earlier questions and final answers (no tool traffic), the last ``HISTORY_TURNS`` turns before this one."""
    turns: list[BaseMessage] = []
    pending: HumanMessage | None = None
    for message in messages:
        if isinstance(message, HumanMessage):
            pending = message
        elif isinstance(message, AIMessage) and not message.tool_calls and pending is not None:
            turns += [pending, AIMessage(content=_text(message.content))]
            pending = None
    return turns[-2 * HISTORY_TURNS :]

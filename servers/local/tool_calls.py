"""Hermes-style tool calls: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` in, OpenAI ``tool_calls`` out.

Small chat models (SmolLM2, Qwen, Hermes fine-tunes) write tool calls as JSON between these tags; vLLM's ``hermes``
parser reads the same format, so a client sees the same ``tool_calls`` from either server. A block whose JSON does
not parse, or lacks a ``name``, stays in the text: the client then sees what the model wrote instead of a call
invented by the server.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from servers.local.protocol import FunctionCall, ToolCall, new_tool_call_id

TOOL_CALL_OPEN = "<tool_call>"
TOOL_CALL_CLOSE = "</tool_call>"

# A closed block, or an unclosed one at the very end (the model hit end-of-sequence before writing the close tag).
_BLOCK = re.compile(rf"{re.escape(TOOL_CALL_OPEN)}(.*?)(?:{re.escape(TOOL_CALL_CLOSE)}|\Z)", re.DOTALL)


@dataclass
class ParsedOutput:
    """The model's text split into what the user reads (``content``) and the calls it asked for."""

    content: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)


def parse_tool_call_json(block: str) -> ToolCall | None:
    """One ``{"name": str, "arguments": object | JSON string}`` block as a ``ToolCall``, or None if malformed."""
    try:
        payload = json.loads(block.strip())
    except json.JSONDecodeError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("name"), str) or not payload["name"]:
        return None
    arguments = payload.get("arguments", payload.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError:
            return None
    if not isinstance(arguments, dict):
        return None
    return ToolCall(
        id=new_tool_call_id(),
        function=FunctionCall(name=payload["name"], arguments=json.dumps(arguments, ensure_ascii=False)),
    )


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def parse_bare_tool_calls(text: str, known_names: tuple[str, ...]) -> list[ToolCall]:
    """Calls written as JSON without the tags: a whole reply ``{"name": ..., "arguments": ...}`` (or a list of
    them), or such objects in ```json fences. Qwen2.5-Coder 0.5B and 1.5B write calls this way despite their
    template; only a name among ``known_names`` counts, so JSON that merely has a "name" key stays text."""
    candidates = [match.group(1) for match in _FENCE.finditer(text)] or [text]
    calls: list[ToolCall] = []
    for candidate in candidates:
        try:
            payload = json.loads(candidate.strip())
        except json.JSONDecodeError:
            continue
        for item in payload if isinstance(payload, list) else [payload]:
            if isinstance(item, dict) and item.get("name") in known_names:
                call = parse_tool_call_json(json.dumps(item))
                if call is not None:
                    calls.append(call)
    return calls


def parse_tool_calls(text: str, known_names: tuple[str, ...] = ()) -> ParsedOutput:
    """Split ``text`` into content and tool calls.

    Without a well-formed block the text is returned unchanged (not even stripped), so that plain answers are
    byte-identical whether or not tools were offered. With calls, the content is the text before the first call,
    stripped, or ``None`` when empty; text after the calls is dropped, as vLLM's ``hermes`` parser does. Without
    tags, a reply that is nothing but JSON calls of ``known_names`` is read as those calls.
    """
    calls: list[ToolCall] = []
    first_start: int | None = None
    for match in _BLOCK.finditer(text):
        call = parse_tool_call_json(match.group(1))
        if call is None:
            continue
        if first_start is None:
            first_start = match.start()
        calls.append(call)
    if first_start is None:
        bare = parse_bare_tool_calls(text, known_names) if known_names else []
        return ParsedOutput(content=None, tool_calls=bare) if bare else ParsedOutput(content=text)
    content = text[:first_start].strip()
    return ParsedOutput(content=content or None, tool_calls=calls)


def tool_calls_finished(text: str) -> bool:
    """True once ``text`` holds a well-formed call and what follows the last closed block cannot begin another:
    generating further would only add text that ``parse_tool_calls`` drops."""
    end = text.rfind(TOOL_CALL_CLOSE)
    if end < 0:
        return False
    end += len(TOOL_CALL_CLOSE)
    rest = text[end:].lstrip()
    if not rest or rest.startswith(TOOL_CALL_OPEN) or TOOL_CALL_OPEN.startswith(rest):
        return False
    return bool(parse_tool_calls(text[:end]).tool_calls)


class ToolCallStreamSplitter:
    """Streams plain text at once and holds back anything from ``<tool_call>`` on, for parsing at the end.

    ``feed`` returns the text that is safe to send now: text that cannot be the start of a tool-call tag. ``finish``
    parses what was held and returns (text still to send, tool calls).
    """

    def __init__(self) -> None:
        self._pending = ""  # text that may be the beginning of the open tag
        self._held: str | None = None  # everything from the first open tag on

    def feed(self, piece: str) -> str:
        if self._held is not None:
            self._held += piece
            return ""
        text = self._pending + piece
        start = text.find(TOOL_CALL_OPEN)
        if start >= 0:
            self._held = text[start:]
            self._pending = ""
            return text[:start]
        keep = _longest_suffix_prefix(text, TOOL_CALL_OPEN)
        self._pending = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def finish(self) -> tuple[str, list[ToolCall]]:
        if self._held is None:
            rest, self._pending = self._pending, ""
            return rest, []
        parsed = parse_tool_calls(self._held)
        if not parsed.tool_calls:
            return self._held, []
        return parsed.content or "", parsed.tool_calls


def _longest_suffix_prefix(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for length in range(min(len(text), len(tag) - 1), 0, -1):
        if tag.startswith(text[-length:]):
            return length
    return 0

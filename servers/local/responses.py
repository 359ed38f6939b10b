"""Generated text as OpenAI responses: one ``chat.completion``, or a stream of ``chat.completion.chunk`` events.

Both read tool calls the same way (``tool_calls.parse_tool_calls``) when the request offered tools, so a client
gets the same answer either way; in a stream, text before a tool call is sent as it comes and each tool call is
sent whole, in one delta, once generation ends.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from servers.local.errors import APIError
from servers.local.protocol import (
    SSE_DONE,
    ChatCompletionChunk,
    ChatCompletionResponse,
    Choice,
    ChunkChoice,
    Delta,
    FinishReason,
    ResponseMessage,
    ToolCall,
    ToolCallDelta,
    Usage,
    new_completion_id,
    unix_time_s,
)
from servers.local.tool_calls import ToolCallStreamSplitter, parse_tool_calls

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AnswerFormat:
    """How generated text becomes a response: the served model's name, whether tools were offered, the text the
    reply was started with (``assistant_prefix``, part of the answer but not generated), and stream usage."""

    model: str
    tools_enabled: bool = False
    assistant_prefix: str = ""
    include_usage: bool = False
    tool_names: tuple[str, ...] = ()  # the tools offered: a reply that is only a JSON call of one is a call


def completion_response(
    answer: AnswerFormat, generated: str, finish_reason: FinishReason, usage: Usage
) -> ChatCompletionResponse:
    """A non-streamed response for ``generated`` text (without the prefix)."""
    text = answer.assistant_prefix + generated
    content: str | None = text
    tool_calls: list[ToolCall] = []
    if answer.tools_enabled:
        parsed = parse_tool_calls(text, answer.tool_names)
        content, tool_calls = parsed.content, parsed.tool_calls
    message = ResponseMessage(content=content, tool_calls=tool_calls or None)
    return ChatCompletionResponse(
        id=new_completion_id(),
        created=unix_time_s(),
        model=answer.model,
        choices=[Choice(message=message, finish_reason="tool_calls" if tool_calls else finish_reason)],
        usage=usage,
    )


async def completion_events(
    answer: AnswerFormat,
    pieces: AsyncIterator[str],
    outcome: Callable[[], tuple[FinishReason, Usage]],
) -> AsyncIterator[str]:
    """Server-sent events for text arriving in ``pieces``; ``outcome()`` is called once they end. Ends with
    ``data: [DONE]``; an error while generating becomes one ``data: {"error": ...}`` event before it."""
    completion_id, created = new_completion_id(), unix_time_s()

    def event(delta: Delta, finish: FinishReason | None = None) -> str:
        choice = ChunkChoice(delta=delta, finish_reason=finish)
        return ChatCompletionChunk(id=completion_id, created=created, model=answer.model, choices=[choice]).to_sse()

    splitter = ToolCallStreamSplitter() if answer.tools_enabled else None
    if splitter is not None:
        splitter.feed(answer.assistant_prefix)
    try:
        yield event(Delta(role="assistant", content=""))
        async for piece in pieces:
            text = splitter.feed(piece) if splitter is not None else piece
            if text:
                yield event(Delta(content=text))
        finish_reason, usage = outcome()
        tool_calls: list[ToolCall] = []
        if splitter is not None:
            rest, tool_calls = splitter.finish()
            if rest:
                yield event(Delta(content=rest))
        if tool_calls:
            deltas = [ToolCallDelta(index=i, id=call.id, function=call.function) for i, call in enumerate(tool_calls)]
            yield event(Delta(tool_calls=deltas))
        yield event(Delta(), "tool_calls" if tool_calls else finish_reason)
        if answer.include_usage:
            yield ChatCompletionChunk(
                id=completion_id, created=created, model=answer.model, choices=[], usage=usage
            ).to_sse()
    except APIError as error:
        yield f"data: {error.to_response().model_dump_json()}\n\n"
    except Exception as error:
        log.exception("generation failed mid-stream")
        failure = APIError(500, f"generation failed: {error}", type="server_error")
        yield f"data: {failure.to_response().model_dump_json()}\n\n"
    yield SSE_DONE

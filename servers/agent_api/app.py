"""``mien serve agent``: Mien's agent as an OpenAI-compatible chat endpoint (``/v1/chat/completions``, ``/v1/models``).

The "model" is the agent: each request is one agent turn (plan, run the tools, answer with evidence) over the media
the request carries. Non-streaming answers are one completion whose text is ``Answer.text()`` (label, explanation,
evidence lines); streaming sends the explanation as it is written, tool progress as ``mien_event`` chunks, and a
last chunk with the label and evidence lines and the structured evidence (``servers.agent_api.protocol``).

Bad input is refused before the agent runs, in OpenAI's error shape with a status that says what is wrong: 413 too
large, 415 not a media type, 422 unreadable media, 404 a file reference naming nothing, 403 a path outside the
data folder, 400 a malformed request. Nothing is written outside the data folder; the server keeps serving.
``create_app(settings)`` builds the app behind the shared guard (``servers.security``: API keys, concurrency).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from agent.answer import Answer
from agent.session import new_thread_id
from servers.agent_api.media import Turn, turn_of
from servers.agent_api.protocol import AGENT_MODEL, AgentChatRequest, AgentChunk, AgentCompletion
from servers.agent_api.serving import AgentRunner, TurnEvent
from servers.data_folder import DataFolder
from servers.local.protocol import (
    SSE_DONE,
    Choice,
    ChunkChoice,
    Delta,
    ErrorBody,
    ErrorResponse,
    ModelCard,
    ModelList,
    ResponseMessage,
    Usage,
    new_completion_id,
    unix_time_s,
)
from servers.security import install_guard, openai_error_body, server_policy
from servers.security.policy import agent_route_scope
from tools.errors import (
    AccessDeniedError,
    ConfigError,
    MediaError,
    MediaTooLargeError,
    MienError,
    NotFoundError,
    ServiceError,
    UnsupportedMediaTypeError,
)
from tools.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Most specific first: the first matching class gives the status.
STATUS: tuple[tuple[type[MienError], int], ...] = (
    (MediaTooLargeError, 413),
    (UnsupportedMediaTypeError, 415),
    (AccessDeniedError, 403),
    (NotFoundError, 404),
    (MediaError, 422),
    (ConfigError, 400),
    (ServiceError, 502),
)
BODY_SLACK_BYTES = 64 * 1024  # JSON around base64 media


class RequestTooLarge(MediaTooLargeError):
    """The request body is over the limit (checked while it arrives, before it is parsed)."""


def error_json(status: int, message: str, code: str) -> JSONResponse:
    kind = "invalid_request_error" if status < 500 else "server_error"
    body = ErrorResponse(error=ErrorBody(message=message, type=kind, code=code))
    return JSONResponse(body.model_dump(), status_code=status)


def mien_error_json(error: MienError) -> JSONResponse:
    status = next((code for cls, code in STATUS if isinstance(error, cls)), 500)
    return error_json(status, str(error), type(error).__name__)


def body_limit(settings: Settings) -> int:
    """Largest body: an upload at the limit, base64-encoded (4/3), plus the JSON around it."""
    return settings.server_max_upload_bytes * 4 // 3 + BODY_SLACK_BYTES


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with ``RequestTooLarge`` as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge(f"the request is {int(declared) / 1e6:.1f} MB, over the limit of {limit / 1e6:.1f} MB")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge(f"the request is over the limit of {limit / 1e6:.1f} MB")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_request(body: bytes) -> AgentChatRequest:
    try:
        return AgentChatRequest.model_validate_json(body)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in error.errors(include_url=False)[:5]
        )
        raise ConfigError(f"invalid chat completion request: {problems}") from error


def evidence_fields(thread_id: str, answer: Answer) -> dict[str, Any]:
    data = answer.to_dict()
    return {
        "mien_thread": thread_id,
        "mien_answer": data,
        "mien_evidence": data["evidence"],
        "mien_tool_calls": data["tools"],
    }


def completion(thread_id: str, answer: Answer) -> AgentCompletion:
    message = ResponseMessage(content=answer.text())
    return AgentCompletion(
        id=new_completion_id(),
        created=unix_time_s(),
        model=AGENT_MODEL,
        choices=[Choice(message=message, finish_reason="stop")],
        usage=Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0),  # an agent turn spans several requests
        **evidence_fields(thread_id, answer),
    )


async def sse_events(runner: AgentRunner, turn: Turn, thread_id: str, request: AgentChatRequest) -> AsyncIterator[str]:
    """The turn as OpenAI stream chunks (``data: {...}``), then ``data: [DONE]``."""
    completion_id, created = new_completion_id(), unix_time_s()

    def chunk(delta: Delta, finish: bool = False, **extra: Any) -> str:
        choice = ChunkChoice(delta=delta, finish_reason="stop" if finish else None)
        return AgentChunk(id=completion_id, created=created, model=AGENT_MODEL, choices=[choice], **extra).to_sse()

    yield chunk(Delta(role="assistant", content=""), mien_thread=thread_id)
    event: TurnEvent
    async for event in runner.stream(turn, thread_id, request.mien_privacy):
        if event.text:
            yield chunk(Delta(content=event.text))
        elif event.event is not None:
            yield chunk(Delta(), mien_event=json.loads(json.dumps(event.event, default=str)))
        elif event.answer is not None:
            tail = dataclasses.replace(event.answer, explanation="").text()
            yield chunk(Delta(content="\n\n" + tail), finish=True, **evidence_fields(thread_id, event.answer))
        elif event.error is not None:
            status = next((code for cls, code in STATUS if isinstance(event.error, cls)), 500)
            body = ErrorBody(message=str(event.error), type="server_error", code=type(event.error).__name__)
            yield f"data: {json.dumps({'error': {**body.model_dump(), 'status': status}})}\n\n"
    yield SSE_DONE


def guard(app: FastAPI, settings: Settings) -> None:
    """The shared server guard (``servers.security``: ``agent``-scope API keys when the key file holds any, bounded
    concurrency, safe binds), with the body limit of a base64 upload at the limit and OpenAI-shaped refusals."""
    policy = server_policy(
        settings,
        agent_route_scope,
        max_body_mb=body_limit(settings) / 2**20,
        error_body=openai_error_body,
        scopes=("agent",),
    )
    app.state.policy = policy
    app.state.server_name = "agent endpoint"
    install_guard(app, policy)


def create_app(settings: Settings | None = None, model_url: str | None = None) -> FastAPI:
    """The agent endpoint: the agent starts (and the embedded chat model with it, unless ``model_url`` or
    ``MIEN_LLM_BASE_URL`` names one) before the server accepts requests, and stops with it."""
    settings = settings or get_settings()
    folder = DataFolder.of(settings)
    folder.root.mkdir(parents=True, exist_ok=True)
    runner = AgentRunner(settings, model_url)
    started = unix_time_s()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(runner.start)
        try:
            yield
        finally:
            await run_in_threadpool(runner.close)

    app = FastAPI(title="Mien agent (OpenAI-compatible)", lifespan=lifespan)
    app.state.agent = runner
    app.state.data_folder = folder
    guard(app, settings)

    @app.exception_handler(MienError)
    async def refused(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, MienError)
        log.info("refused: %s", error)
        return mien_error_json(error)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "agent": AGENT_MODEL, "chat_model": runner.chat_model, "data": str(folder.root)}

    @app.get("/v1/models")
    async def models() -> ModelList:
        return ModelList(data=[ModelCard(id=AGENT_MODEL, created=started)])

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(request: Request) -> JSONResponse | StreamingResponse:
        body = parse_request(await read_body(request, body_limit(settings)))
        if body.model != AGENT_MODEL:
            raise NotFoundError(f"the model {body.model!r} is not served here; this server serves {AGENT_MODEL!r}")
        turn = await run_in_threadpool(turn_of, body, folder)
        thread_id = body.mien_thread or new_thread_id()
        if body.stream:
            events = sse_events(runner, turn, thread_id, body)
            return StreamingResponse(events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
        thread_id, answer = await run_in_threadpool(runner.ask, turn, thread_id, body.mien_privacy)
        return JSONResponse(completion(thread_id, answer).model_dump())

    return app

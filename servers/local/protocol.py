"""Pydantic schemas for the subset of OpenAI's chat API that Mien's embedded server speaks.

Requests accept what OpenAI clients (the ``openai`` package, ``langchain_openai.ChatOpenAI``) send: messages whose
content is a string or a list of text / image_url parts, tools and tool_choice, streaming, sampling settings.
Fields this server does not know are ignored, as OpenAI-compatible servers commonly do; fields it knows but cannot
honour (``n`` > 1, ``logprobs``) are refused with a 400 rather than silently ignored.
"""

from __future__ import annotations

import base64
import binascii
import io
import time
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# OpenAI caps ``stop`` at four sequences; more is a client bug worth reporting.
MAX_STOP_SEQUENCES = 4


class _Lenient(BaseModel):
    """Request-side models: unknown fields are ignored (clients add vendor fields freely)."""

    model_config = ConfigDict(extra="ignore")


# ---------------------------------------------------------------- request: messages


class TextPart(_Lenient):
    type: Literal["text"] = "text"
    text: str


class ImageUrl(_Lenient):
    url: str
    detail: Literal["auto", "low", "high"] | None = None

    @field_validator("url")
    @classmethod
    def _check_url(cls, url: str) -> str:
        """Accept http(s) URLs (not fetched here) and ``data:image/...;base64,`` URLs that decode to an image."""
        if url.startswith(("http://", "https://")):
            return url
        if not url.startswith("data:image/"):
            raise ValueError("image_url.url must be an http(s) URL or a data:image/<format>;base64,<data> URL")
        header, _, payload = url.partition(",")
        if not header.endswith(";base64") or not payload:
            raise ValueError("image_url data URL must be base64 encoded: data:image/<format>;base64,<data>")
        try:
            raw = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError(f"image_url data URL is not valid base64: {error}") from error
        _verify_image_bytes(raw)
        return url


def _verify_image_bytes(raw: bytes) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(raw)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValueError(f"image_url data URL does not hold a readable image: {error}") from error


class ImagePart(_Lenient):
    type: Literal["image_url"] = "image_url"
    image_url: ImageUrl


ContentPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class FunctionCall(BaseModel):
    """A function call as OpenAI writes it: ``arguments`` is a JSON *string*."""

    name: str
    arguments: str


class ToolCall(BaseModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(_Lenient):
    """One message of the conversation. ``developer`` is OpenAI's newer name for ``system``."""

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None

    @model_validator(mode="after")
    def _check_role_fields(self) -> ChatMessage:
        if self.role == "tool" and not self.tool_call_id:
            raise ValueError("a message with role 'tool' needs tool_call_id")
        if self.role in ("system", "developer", "user", "tool") and self.content is None:
            raise ValueError(f"a message with role {self.role!r} needs content")
        if self.role == "assistant" and self.content is None and not self.tool_calls:
            raise ValueError("an assistant message needs content or tool_calls")
        if self.tool_calls and self.role != "assistant":
            raise ValueError("only assistant messages carry tool_calls")
        return self

    def image_parts(self) -> list[ImagePart]:
        if not isinstance(self.content, list):
            return []
        return [part for part in self.content if isinstance(part, ImagePart)]


# ---------------------------------------------------------------- request: tools


class FunctionDefinition(_Lenient):
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,64}$")
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})


class ToolDefinition(_Lenient):
    type: Literal["function"] = "function"
    function: FunctionDefinition


class NamedFunction(_Lenient):
    name: str


class NamedToolChoice(_Lenient):
    type: Literal["function"] = "function"
    function: NamedFunction


ToolChoice = Literal["none", "auto", "required"] | NamedToolChoice


class StreamOptions(_Lenient):
    include_usage: bool = False


class ChatCompletionRequest(_Lenient):
    """``POST /v1/chat/completions``. ``max_completion_tokens`` is OpenAI's newer spelling of ``max_tokens``."""

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    tools: list[ToolDefinition] | None = None
    tool_choice: ToolChoice | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    stop: str | list[str] | None = None
    seed: int | None = None
    # OpenAI's penalties (-2..2). The embedded server maps the larger positive one to a transformers repetition
    # penalty of 1 + penalty/2, which is what keeps a 135M model out of repetition loops.
    frequency_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    presence_penalty: float = Field(default=0.0, ge=-2.0, le=2.0)
    n: int = Field(default=1, ge=1)
    logprobs: bool | None = None
    # {"type": "text" | "json_object" | "json_schema", "json_schema": {"name", "schema", "strict"}}: on the
    # llama.cpp runtime the answer is decoded under a grammar made from the schema (constrained decoding).
    response_format: dict[str, Any] | None = None

    @field_validator("response_format")
    @classmethod
    def _check_response_format(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and value.get("type") not in ("text", "json_object", "json_schema"):
            raise ValueError("response_format.type must be 'text', 'json_object' or 'json_schema'")
        if value is not None and value.get("type") == "json_schema":
            inner = value.get("json_schema")
            if not isinstance(inner, dict) or not isinstance(inner.get("schema", {}), dict):
                raise ValueError("response_format.json_schema must be an object with a 'schema' object")
        return value

    @field_validator("stop")
    @classmethod
    def _check_stop(cls, stop: str | list[str] | None) -> str | list[str] | None:
        sequences = [stop] if isinstance(stop, str) else (stop or [])
        if len(sequences) > MAX_STOP_SEQUENCES:
            raise ValueError(f"stop takes at most {MAX_STOP_SEQUENCES} sequences, got {len(sequences)}")
        if any(sequence == "" for sequence in sequences):
            raise ValueError("stop sequences must not be empty strings")
        return stop

    @model_validator(mode="after")
    def _check_supported(self) -> ChatCompletionRequest:
        if self.n != 1:
            raise ValueError("this server generates one choice per request; n must be 1")
        if self.logprobs:
            raise ValueError("this server does not return logprobs")
        if self.tool_choice is not None and self.tool_choice != "none" and not self.tools:
            raise ValueError("tool_choice needs tools")
        if isinstance(self.tool_choice, NamedToolChoice):
            offered = {tool.function.name for tool in self.tools or []}
            if self.tool_choice.function.name not in offered:
                raise ValueError(
                    f"tool_choice names {self.tool_choice.function.name!r}, which is not among the tools offered: "
                    f"{', '.join(sorted(offered))}"
                )
        return self

    @property
    def stop_sequences(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)

    @property
    def requested_max_tokens(self) -> int | None:
        return self.max_completion_tokens if self.max_completion_tokens is not None else self.max_tokens

    @property
    def tools_enabled(self) -> bool:
        return bool(self.tools) and self.tool_choice != "none"


# ---------------------------------------------------------------- responses


def new_completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def new_tool_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def unix_time_s() -> int:
    return int(time.time())


FinishReason = Literal["stop", "length", "tool_calls"]


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None
    tool_calls: list[ToolCall] | None = None


class Choice(BaseModel):
    index: int = 0
    message: ResponseMessage
    finish_reason: FinishReason
    logprobs: None = None


class ChatCompletionResponse(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class ToolCallDelta(BaseModel):
    """A tool call in a stream. This server sends each call whole, in one delta."""

    index: int
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None
    tool_calls: list[ToolCallDelta] | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: FinishReason | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: Usage | None = None

    def to_sse(self) -> str:
        """One server-sent event: ``data: {json}`` and a blank line. ``None`` fields are left out."""
        return f"data: {self.model_dump_json(exclude_none=True)}\n\n"


SSE_DONE = "data: [DONE]\n\n"


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "mien"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class HealthResponse(BaseModel):
    """``/health``: ``ok`` once the model is loaded; ``loading`` and ``failed`` come with status 503."""

    status: Literal["ok", "loading", "failed"]
    model: str
    error: str | None = None


class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    """OpenAI's error shape: ``{"error": {"message", "type", "param", "code"}}``."""

    error: ErrorBody

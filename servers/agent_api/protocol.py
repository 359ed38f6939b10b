"""The OpenAI chat API as ``mien serve agent`` speaks it: requests carrying media, responses carrying evidence.

Requests take what chat front-ends send: text parts, ``image_url`` parts (a ``data:`` URL, or a file reference: a
path inside the data folder), ``video_url`` parts (vLLM's spelling, same forms), ``input_audio`` parts (base64 and
a format) and ``file`` parts (``file_data`` as base64 or a data URL, or ``file_id`` naming a file in the data
folder). Sampling fields (temperature and the like) are accepted and ignored: the agent's own settings decide.
Two vendor fields pass through ``extra_body``: ``mien_thread`` continues an agent thread, ``mien_privacy`` asks for
``deidentified`` answers. Responses reuse the embedded server's OpenAI shapes (``servers.local.protocol``) and add
the answer's evidence: ``mien_answer`` (label, explanation, citations, tool runs), ``mien_evidence`` (the
citations), ``mien_tool_calls`` (which tools ran, on what, how long) and ``mien_thread``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from servers.local.protocol import ChatCompletionChunk, ChatCompletionResponse

AGENT_MODEL = "mien-agent"


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class MediaUrl(_Lenient):
    url: str


class InputAudio(_Lenient):
    data: str
    format: str | None = None


class FilePart(_Lenient):
    file_id: str | None = None
    file_data: str | None = None
    filename: str | None = None


class ContentPart(_Lenient):
    """One part of a message's content; which field is set follows ``type``."""

    type: Literal["text", "image_url", "video_url", "input_audio", "file"]
    text: str | None = None
    image_url: MediaUrl | None = None
    video_url: MediaUrl | None = None
    input_audio: InputAudio | None = None
    file: FilePart | None = None


class AgentMessage(_Lenient):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None


class AgentChatRequest(_Lenient):
    model: str = AGENT_MODEL
    messages: list[AgentMessage] = Field(min_length=1)
    stream: bool = False
    mien_thread: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    mien_privacy: Literal["local", "deidentified"] | None = None


class AgentCompletion(ChatCompletionResponse):
    """A chat completion with the agent's evidence beside the text."""

    mien_thread: str
    mien_answer: dict[str, Any]
    mien_evidence: list[dict[str, Any]]
    mien_tool_calls: list[dict[str, Any]]


class AgentChunk(ChatCompletionChunk):
    """A stream chunk; tool progress rides on ``mien_event``, the last chunk carries the evidence."""

    mien_event: dict[str, Any] | None = None
    mien_thread: str | None = None
    mien_answer: dict[str, Any] | None = None
    mien_evidence: list[dict[str, Any]] | None = None
    mien_tool_calls: list[dict[str, Any]] | None = None

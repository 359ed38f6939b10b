"""The chat model: any OpenAI-compatible endpoint through ``ChatOpenAI``, or the embedded server started on demand.

``open_endpoint`` resolves which endpoint to use (``--model URL``, else ``MIEN_LLM_BASE_URL``, else the embedded
server, started here and stopped on exit) and what it can do: native tool calls and images. Both are settings
(``MIEN_AGENT_TOOL_CALLING``, ``MIEN_AGENT_VISION``); on ``auto`` one short request probes each. The embedded
models read no images, so they get the text part of prompts; they plan with the semantic router unless
``MIEN_AGENT_TOOL_CALLING=native``: on the same 10 questions the router called the expected tool 10 times, the
native calls of Qwen2.5-Coder-0.5B 2 times (``evals/bench/agent_answers.py``). Every failure of the endpoint
becomes a ``ServiceError`` that names the URL.
"""

from __future__ import annotations

import base64
import contextlib
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import openai
from langchain_openai import ChatOpenAI
from PIL import Image
from pydantic import SecretStr

from tools.errors import ServiceError
from tools.settings import Settings

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ChatEndpoint:
    """An OpenAI-compatible endpoint and what it can do. ``embedded``: the server this process started."""

    base_url: str
    model: str
    api_key: str
    native_tools: bool
    vision: bool
    embedded: bool

    def structured_answers(self, settings: Settings) -> bool:
        """Whether answers are grounded JSON (``agent.explain``): ``MIEN_AGENT_STRUCTURED_ANSWERS``; on ``auto``
        yes, except for SmolLM2-135M, which cannot fill the structure usefully (it keeps free prose)."""
        if settings.agent_structured_answers != "auto":
            return settings.agent_structured_answers == "on"
        return "smollm" not in self.model.lower()

    def chat_model(self, settings: Settings) -> ChatOpenAI:
        """A ``ChatOpenAI`` client for this endpoint: deterministic, no retries (a timeout is reported, not hidden).

        Requests that offer tools are never streamed: streamed tool-call arguments are parsed leniently (a cut-off
        ``{"media": `` becomes ``{}``), whereas a whole response shows malformed arguments as what they are.
        """
        return ChatOpenAI(
            base_url=self.base_url,
            api_key=SecretStr(self.api_key),
            model=self.model,
            temperature=0.0,
            frequency_penalty=settings.agent_frequency_penalty,
            max_completion_tokens=settings.agent_answer_max_tokens,
            timeout=settings.agent_request_timeout_s,
            max_retries=0,
            disable_streaming="tool_calling",
        )


def normalized_base_url(url: str) -> str:
    """``http://host:8000`` → ``http://host:8000/v1``; a URL with a path is kept as given (minus a trailing /)."""
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ServiceError(f"{url!r} is not an http(s) URL of an OpenAI-compatible endpoint")
    return url if httpx.URL(url).path not in ("", "/") else f"{url}/v1"


def service_error(error: Exception, base_url: str, timeout_s: float) -> ServiceError:
    """A clear ``ServiceError`` for a failed request to the chat model at ``base_url``."""
    if isinstance(error, ServiceError):
        return error
    if isinstance(error, openai.APITimeoutError | httpx.TimeoutException):
        return ServiceError(
            f"the chat model at {base_url} did not answer within {timeout_s:g} s "
            "(raise MIEN_AGENT_REQUEST_TIMEOUT_S, or use a faster model)"
        )
    if isinstance(error, openai.APIConnectionError | httpx.TransportError):
        return ServiceError(
            f"cannot reach the chat model at {base_url}: is the server running? "
            "(start one with `mien serve llm`, or unset MIEN_LLM_BASE_URL to use the embedded one)"
        )
    if isinstance(error, openai.APIStatusError):
        return ServiceError(f"the chat model at {base_url} refused the request (HTTP {error.status_code}): {error}")
    return ServiceError(f"the chat model at {base_url} failed: {error}")


@contextlib.contextmanager
def open_endpoint(settings: Settings, base_url: str | None = None, model: str | None = None) -> Iterator[ChatEndpoint]:
    """The endpoint to use, started (embedded server) and probed as the settings say; stopped on exit."""
    url = base_url or settings.llm_base_url
    if url is None:
        with embedded_endpoint(settings, model) as endpoint:
            yield endpoint
        return
    url = normalized_base_url(url)
    name = model or settings.llm_model or first_model(url, settings.llm_api_key)
    native = {"native": True, "router": False}.get(settings.agent_tool_calling)
    if native is None:
        native = probe_tool_calling(url, name, settings.llm_api_key)
    vision = {"on": True, "off": False}.get(settings.agent_vision)
    if vision is None:
        vision = probe_vision(url, name, settings.llm_api_key)
    log.info("chat model %s at %s: native tools %s, vision %s", name, url, native, vision)
    yield ChatEndpoint(url, name, settings.llm_api_key, native, vision, embedded=False)


@contextlib.contextmanager
def embedded_endpoint(settings: Settings, model: str | None = None) -> Iterator[ChatEndpoint]:
    """The embedded server, started and loaded (about 10 s on an idle core), stopped on exit.

    Starting it in the background while the tools run was tried: on 2 shared cores it was no faster (first token
    at 44.9 and 42.9 s against 39.0 and 42.0 s started first), so it starts first, which is simpler.
    """
    from servers.local.process import LocalServer

    with LocalServer() as server:
        yield ChatEndpoint(
            server.base_url,
            model or server.model_name,
            settings.llm_api_key,
            native_tools=settings.agent_tool_calling == "native",
            vision=settings.agent_vision == "on",
            embedded=True,
        )


def first_model(base_url: str, api_key: str) -> str:
    """The first model the endpoint lists at ``/models``."""
    try:
        response = httpx.get(f"{base_url}/models", headers=_headers(api_key), timeout=PROBE_TIMEOUT_S, trust_env=False)
        response.raise_for_status()
        models = response.json().get("data", [])
    except (httpx.HTTPError, ValueError) as error:
        raise service_error(error, base_url, PROBE_TIMEOUT_S) from error
    if not models:
        raise ServiceError(f"the endpoint {base_url} serves no model; name one with MIEN_LLM_MODEL")
    return str(models[0]["id"])


def probe_tool_calling(base_url: str, model: str, api_key: str) -> bool:
    """Whether the endpoint answers a request that offers a tool with a well-formed call of it."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "What time is it in Paris? Use the tool."}],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_time",
                    "description": "The current time in a city.",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                },
            }
        ],
        "max_tokens": 64,
        "temperature": 0,
    }
    reply = _probe(base_url, api_key, body)
    calls = (reply or {}).get("choices", [{}])[0].get("message", {}).get("tool_calls") or []
    return any(call.get("function", {}).get("name") == "get_time" for call in calls)


def probe_vision(base_url: str, model: str, api_key: str) -> bool:
    """Whether the endpoint accepts an image part (text-only servers answer 400)."""
    buffer = io.BytesIO()
    Image.fromarray(np.full((32, 32, 3), 128, np.uint8)).save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    content = [{"type": "text", "text": "Say OK."}, {"type": "image_url", "image_url": {"url": url}}]
    body = {"model": model, "messages": [{"role": "user", "content": content}], "max_tokens": 1, "temperature": 0}
    return _probe(base_url, api_key, body) is not None


def _probe(base_url: str, api_key: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """The endpoint's JSON answer, or None when it refuses the request (4xx). Unreachable: ``ServiceError``."""
    try:
        response = httpx.post(
            f"{base_url}/chat/completions",
            json=body,
            headers=_headers(api_key),
            timeout=PROBE_TIMEOUT_S,
            trust_env=False,
        )
    except httpx.HTTPError as error:
        raise service_error(error, base_url, PROBE_TIMEOUT_S) from error
    if 400 <= response.status_code < 500:
        return None
    if response.status_code >= 500:
        raise ServiceError(f"the chat model at {base_url} failed a capability probe (HTTP {response.status_code})")
    try:
        return dict(response.json())
    except ValueError:
        return None


def _headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}

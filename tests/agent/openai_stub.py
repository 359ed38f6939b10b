"""A small OpenAI-format chat server for tests: it answers from a script and records every request it gets.

It stands in for a remote model so that tests can see exactly what left the machine (privacy mode), make the
model slow (timeouts) or make it return broken tool calls. It speaks both plain JSON and SSE streaming, since
``ChatOpenAI`` streams when the graph streams tokens.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse


@dataclass
class StubReply:
    """One scripted answer: text, or tool calls (``arguments`` as the raw JSON string the model "wrote"), after
    ``delay_s``; a ``status`` other than 200 is an error response."""

    content: str = ""
    tool_calls: list[tuple[str, str]] = field(default_factory=list)
    delay_s: float = 0.0
    status: int = 200


class RecordingServer:
    """Serves ``/v1/chat/completions`` and ``/v1/models`` on a free loopback port, in a thread."""

    def __init__(self, script: list[StubReply] | None = None, default: StubReply | None = None) -> None:
        self.script = list(script or [])
        self.default = default or StubReply("OK.")
        self.requests: list[dict[str, Any]] = []
        self.app = FastAPI()
        self.app.post("/v1/chat/completions")(self._complete)
        self.app.get("/v1/models")(self._models)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> RecordingServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

    def texts(self) -> list[str]:
        """Every text the server received: message contents, text parts and tool-call arguments."""
        found: list[str] = []
        for body in self.requests:
            for message in body.get("messages", []):
                content = message.get("content")
                if isinstance(content, str):
                    found.append(content)
                elif isinstance(content, list):
                    found += [part.get("text", "") for part in content if part.get("type") == "text"]
                for call in message.get("tool_calls") or []:
                    found.append(call["function"]["arguments"])
        return found

    def image_urls(self) -> list[str]:
        return [
            part["image_url"]["url"]
            for body in self.requests
            for message in body.get("messages", [])
            if isinstance(message.get("content"), list)
            for part in message["content"]
            if part.get("type") == "image_url"
        ]

    async def _models(self) -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "stub-model", "object": "model", "owned_by": "tests"}]}

    async def _complete(self, request: Request) -> Any:
        body = await request.json()
        self.requests.append(body)
        reply = self.script.pop(0) if self.script else self.default
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.status != 200:
            return JSONResponse(
                {"error": {"message": "refused by the stub", "type": "invalid_request_error"}}, status_code=reply.status
            )
        calls = [
            {"id": f"call_{uuid.uuid4().hex[:8]}", "type": "function", "function": {"name": name, "arguments": args}}
            for name, args in reply.tool_calls
        ]
        if body.get("stream"):
            return StreamingResponse(_sse(reply.content, calls), media_type="text/event-stream")
        message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
        if calls:
            message["tool_calls"] = calls
        return JSONResponse(
            {
                "id": "chatcmpl-stub",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "stub-model"),
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )


async def _sse(content: str, calls: list[dict[str, Any]]) -> Any:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        payload = {
            "id": "chatcmpl-stub",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": "stub-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(payload)}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    for word in content.split(" ") if content else []:
        yield chunk({"content": word + " "})
    for index, call in enumerate(calls):
        yield chunk({"tool_calls": [{"index": index, **call}]})
    yield chunk({}, "tool_calls" if calls else "stop")
    yield "data: [DONE]\n\n"

"""One ASGI middleware every Mien server runs behind: body limit, API key and scope, bounded concurrency.

Why a middleware and not per-route code: the servers (gallery, chat, web, MCP, agent API) are written by different
hands; wrapping the app once (``install_guard(app, policy)``) gives them all the same refusals:

- 413 when the body is larger than ``max_body_bytes`` (from Content-Length before anything is read, or counted
  while reading a chunked body), so a huge upload never reaches the app;
- 401 for a missing or unknown key, 403 for a key without the route's scope (keys from ``servers.security.keys``,
  sent as ``Authorization: Bearer <token>``, ``X-API-Key`` or, from the web page, the ``mien_api_key`` cookie);
- 503 with ``Retry-After`` when ``max_inflight`` requests are already being served: the client is told at once to
  come back, instead of waiting in an unbounded queue until it times out.

The name of the key a request used is put in ``request.state.api_key_name`` (the gallery's audit log records it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from servers.security.keys import ApiKey, KeyStore

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# (method, path) -> the scope a key needs, or None for a public route (health checks).
RouteScopes = Callable[[str, str], str | None]
ErrorBodyMaker = Callable[[int, str, str], dict[str, Any]]
# A refused request's body is read and dropped up to this size (so the client reads the 503 rather than a reset);
# a larger or chunked one is not waited for: the connection is closed instead.
_DRAIN_BYTES = 8 * 2**20  # an encrypted search request is ~2.5 MB
LOCAL_ACTOR = "local"  # the audit name of a request served without authentication (loopback, no keys)


def default_error_body(status: int, kind: str, message: str) -> dict[str, Any]:
    """``{"error": {"type", "message"}}``: the gallery server's error shape (readable by any JSON client)."""
    return {"error": {"type": kind, "message": message}}


def openai_error_body(status: int, kind: str, message: str) -> dict[str, Any]:
    """OpenAI's error shape, for the OpenAI-compatible servers."""
    kinds = {401: "authentication_error", 403: "permission_error", 413: "invalid_request_error"}
    return {"error": {"message": message, "type": kinds.get(status, "server_error"), "param": None, "code": kind}}


@dataclass
class GuardPolicy:
    """What a server enforces. ``keys=None`` serves without authentication (allowed on loopback only: see
    ``servers.security.bind``)."""

    route_scopes: RouteScopes
    keys: KeyStore | None = None
    max_body_bytes: int = 64 * 2**20
    max_inflight: int = 32
    retry_after_s: int = 1
    error_body: ErrorBodyMaker = default_error_body
    exempt_paths: frozenset[str] = field(default_factory=lambda: frozenset({"/health"}))
    # Read a chunked body (no Content-Length) here to count it; False for a server that streams uploads to disk
    # and counts them itself (the web page), so that a large upload is not held in memory.
    count_chunked: bool = True

    @property
    def authenticating(self) -> bool:
        return self.keys is not None


class GuardMiddleware:
    """The ASGI wrapper (see the module docstring)."""

    def __init__(self, app: ASGIApp, policy: GuardPolicy) -> None:
        self.app = app
        self.policy = policy
        self.inflight = 0
        self.refused_busy = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.policy
        method, path = str(scope.get("method", "GET")), str(scope.get("path", "/"))
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > policy.max_body_bytes):
            await self._refuse(send, 413, "BodyTooLarge", self._too_large(declared))
            return
        key_name = LOCAL_ACTOR
        needed = policy.route_scopes(method, path)
        if policy.keys is not None and needed is not None:
            key = self._key(headers)
            if key is None:
                why = "missing" if not _token(headers) else "not valid (unknown or revoked)"
                await self._refuse(
                    send,
                    401,
                    "AuthError",
                    f"API key {why}: send 'Authorization: Bearer <key>'",
                    {"www-authenticate": "Bearer"},
                )
                return
            if not key.allows(needed):
                await self._refuse(
                    send,
                    403,
                    "AuthError",
                    f"the key {key.name!r} has scopes {sorted(key.scopes)}; {method} {path} needs {needed!r}",
                )
                return
            key_name = key.name
        scope.setdefault("state", {})["api_key_name"] = key_name
        exempt = path in policy.exempt_paths
        if not exempt and self.inflight >= policy.max_inflight:
            self.refused_busy += 1
            bodiless = declared is None and method in ("GET", "HEAD", "OPTIONS")
            small = bodiless or (declared is not None and int(declared) <= _DRAIN_BYTES)
            if small and not bodiless:  # read (and drop) the body first, so the client gets the answer, not a reset
                await self._drain(receive)
            await self._refuse(
                send,
                503,
                "ServiceBusy",
                f"the server is busy: {self.inflight} requests in progress (limit {policy.max_inflight}); retry after "
                f"{policy.retry_after_s} s",
                {"retry-after": str(policy.retry_after_s)} | ({} if small else {"connection": "close"}),
            )
            return
        if not exempt:
            self.inflight += 1
        try:
            if declared is None and policy.count_chunked and method not in ("GET", "HEAD", "OPTIONS"):
                replay = await self._buffered(receive)
                if replay is None:
                    await self._refuse(send, 413, "BodyTooLarge", self._too_large(None))
                    return
                receive = replay
            await self.app(scope, receive, send)
        finally:
            if not exempt:
                self.inflight -= 1

    def _key(self, headers: dict[str, str]) -> ApiKey | None:
        token = _token(headers)
        assert self.policy.keys is not None
        return self.policy.keys.verify(token) if token else None

    def _too_large(self, size: str | None) -> str:
        what = f"request body of {size} bytes" if size is not None else "request body"
        return f"{what} is over this server's limit of {self.policy.max_body_bytes} bytes"

    async def _drain(self, receive: Receive) -> None:
        """Read and discard a request body (already known to be within the limit)."""
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                return
            seen += len(message.get("body", b""))
            if seen > self.policy.max_body_bytes:
                return

    async def _buffered(self, receive: Receive) -> Receive | None:
        """Read a chunked body (no Content-Length) up to the limit, and replay it to the app; None when it is too
        large. Why read it here: FastAPI turns any error raised while it reads a body into a 400."""
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away; the app sees the disconnect
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.policy.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay

    async def _refuse(
        self, send: Send, status: int, kind: str, message: str, extra: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(self.policy.error_body(status, kind, message)).encode("utf-8")
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        headers += [(k.encode(), v.encode()) for k, v in (extra or {}).items()]
        if status == 413:  # the rest of the body is not read: the connection cannot be reused
            headers.append((b"connection", b"close"))
        try:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        except RuntimeError:  # the app had already started its answer; nothing more can be said
            log.warning("could not send %d (%s): the response had started", status, kind)


KEY_COOKIE = "mien_api_key"  # the web page keeps the key here, so its <img> and <video> requests carry it too


def _token(headers: dict[str, str]) -> str:
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    if key := headers.get("x-api-key", "").strip():
        return key
    return _cookie(headers.get("cookie", ""), KEY_COOKIE)


def _cookie(header: str, name: str) -> str:
    """One cookie's value from a ``Cookie`` header (percent-decoded), or ""."""
    from urllib.parse import unquote

    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return unquote(value).strip()
    return ""


def install_guard(app: Any, policy: GuardPolicy) -> None:
    """Wrap a Starlette/FastAPI ``app`` (call before it starts). The middleware, once the app builds its stack,
    is ``app.state.guard`` (its ``inflight`` and ``refused_busy`` counters)."""
    app.add_middleware(_Installed, policy=policy, holder=app.state)


class _Installed(GuardMiddleware):
    def __init__(self, app: ASGIApp, policy: GuardPolicy, holder: Any) -> None:
        super().__init__(app, policy)
        holder.guard = self

"""``GalleryService`` over HTTP: the key owner's connection to ``mien serve gallery`` (``servers.gallery``).

Errors the server answers with come back as the same ``MienError`` subclass (a mixed-up key is a
``CryptoError`` here too); an unreachable or misbehaving server is a ``ServiceError``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from tools.encrypted.errors import StaleLayoutError
from tools.encrypted.messages import (
    EnrollRequest,
    ErrorResponse,
    FetchRequest,
    FetchResponse,
    GalleryInfo,
    InitRequest,
    LayoutResponse,
    MutationResponse,
    PreselectRequest,
    PreselectResponse,
    RemoveRequest,
    ScoreRequest,
    ScoreResponse,
)
from tools.errors import (
    AuthError,
    ConfigError,
    CryptoError,
    GalleryError,
    MienError,
    ServiceError,
    UnknownIdentityError,
)

API_PREFIX = "/v1/gallery"
_ERRORS: dict[str, type[MienError]] = {
    cls.__name__: cls for cls in (CryptoError, GalleryError, UnknownIdentityError, StaleLayoutError, ConfigError)
}
Answer = TypeVar("Answer", bound=BaseModel)
# A 503 from the server's concurrency limit means the request was not served: safe to send again, after the
# Retry-After the server names, for at most this long in all.
BUSY_RETRY_BUDGET_S = 60.0


class RemoteGalleryService:
    """The gallery server at ``base_url`` (e.g. ``http://127.0.0.1:8765``)."""

    def __init__(
        self,
        base_url: str,
        timeout_s: float = 300.0,
        *,
        api_key: str | None = None,
        ca_file: Path | None = None,
        busy_retry_budget_s: float = BUSY_RETRY_BUDGET_S,
    ) -> None:
        """``api_key`` (default ``MIEN_API_KEY``) is sent as a bearer token; ``ca_file`` (default
        ``MIEN_TLS_CA_FILE``) is the certificate an https:// server's must chain to (e.g. its self-signed one)."""
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"gallery server URL must start with http:// or https://, got {base_url!r}")
        from tools.settings import get_settings

        settings = get_settings()
        api_key = api_key if api_key is not None else settings.api_key
        ca_file = ca_file if ca_file is not None else settings.tls_ca_file
        self.base_url = base_url.rstrip("/")
        headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        verify: str | bool = str(ca_file) if ca_file is not None else True
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout_s, headers=headers, verify=verify)
        self.busy_retry_budget_s = busy_retry_budget_s
        self.bytes_sent = 0
        self.bytes_received = 0
        self.busy_retries = 0

    def close(self) -> None:
        self._client.close()

    def info(self) -> GalleryInfo:
        return self._call("GET", "", None, GalleryInfo)

    def init(self, request: InitRequest) -> GalleryInfo:
        return self._call("POST", "/init", request, GalleryInfo)

    def layout(self) -> LayoutResponse:
        return self._call("GET", "/layout", None, LayoutResponse)

    def enroll(self, request: EnrollRequest) -> MutationResponse:
        return self._call("POST", "/enroll", request, MutationResponse)

    def remove(self, request: RemoveRequest) -> MutationResponse:
        return self._call("POST", "/remove", request, MutationResponse)

    def fetch(self, request: FetchRequest) -> FetchResponse:
        return self._call("POST", "/fetch", request, FetchResponse)

    def preselect(self, request: PreselectRequest) -> PreselectResponse:
        return self._call("POST", "/preselect", request, PreselectResponse)

    def score(self, request: ScoreRequest) -> ScoreResponse:
        return self._call("POST", "/score", request, ScoreResponse)

    def _call(self, method: str, path: str, body: BaseModel | None, answer: type[Answer]) -> Answer:
        content = body.model_dump_json().encode("utf-8") if body is not None else None
        deadline = time.monotonic() + self.busy_retry_budget_s
        while True:
            try:
                response = self._client.request(
                    method, API_PREFIX + path, content=content, headers={"content-type": "application/json"}
                )
            except httpx.HTTPError as error:
                raise ServiceError(f"gallery server at {self.base_url} is unreachable ({error})") from error
            self.bytes_sent += len(content or b"")
            wait = _retry_after(response)
            if wait is None or time.monotonic() + wait > deadline:
                break
            self.busy_retries += 1
            time.sleep(wait)
        self.bytes_received += len(response.content)
        if response.status_code != 200:
            raise _error_from(response, self.base_url)
        try:
            return answer.model_validate_json(response.content)
        except ValidationError as error:
            raise ServiceError(f"gallery server at {self.base_url} sent an unexpected answer ({error})") from error


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait before sending again: only for a 503 that names a Retry-After (the limiter's refusal)."""
    if response.status_code != 503:
        return None
    value = response.headers.get("retry-after", "")
    return min(float(value), 30.0) if value.replace(".", "", 1).isdigit() else None


def _error_from(response: httpx.Response, base_url: str) -> MienError:
    try:
        body = ErrorResponse.model_validate_json(response.content).error
    except ValidationError:
        return ServiceError(f"gallery server at {base_url} answered HTTP {response.status_code}: {response.text[:200]}")
    if response.status_code in (401, 403):
        return AuthError(
            f"gallery server at {base_url} refused the request (HTTP {response.status_code}): {body.message}"
        )
    return _ERRORS.get(body.type, ServiceError)(body.message)

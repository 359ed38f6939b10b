"""Errors the embedded server answers with, each carrying its HTTP status and OpenAI error type and code."""

from __future__ import annotations

from servers.local.protocol import ErrorBody, ErrorResponse

# Seconds a client refused for a full queue is told to wait (one short answer's generation on a laptop CPU).
BUSY_RETRY_AFTER_S = 2


class APIError(Exception):
    """An error answered to the client in OpenAI's shape rather than raised to the user of a Python API."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        type: str,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.headers = headers or {}
        self.status_code = status_code
        self.message = message
        self.type = type
        self.param = param
        self.code = code

    def to_response(self) -> ErrorResponse:
        return ErrorResponse(error=ErrorBody(message=self.message, type=self.type, param=self.param, code=self.code))


def invalid_request(message: str, *, param: str | None = None, code: str | None = None) -> APIError:
    """400: the request itself is wrong (the client can fix it)."""
    return APIError(400, message, type="invalid_request_error", param=param, code=code)


def model_not_found(requested: str, served: str) -> APIError:
    return APIError(
        404,
        f"the model {requested!r} is not served here; this server serves {served!r} (see GET /v1/models)",
        type="invalid_request_error",
        param="model",
        code="model_not_found",
    )


def server_busy(waiting: int) -> APIError:
    """503: the bounded request queue is full; retrying later will work."""
    return APIError(
        503,
        f"the server is busy: {waiting} requests are already waiting for the model; retry later",
        type="server_error",
        code="queue_full",
        headers={"Retry-After": str(BUSY_RETRY_AFTER_S)},
    )


def model_failed(reason: str) -> APIError:
    return APIError(503, f"the model could not be loaded: {reason}", type="server_error", code="model_load_failed")

"""HTTP routes of the embedded server: ``/v1/chat/completions``, ``/v1/models``, ``/health``.

Routes only translate between HTTP and ``ChatService``; every error leaves in OpenAI's error shape.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from servers.local.errors import APIError, invalid_request
from servers.local.prompting import RenderedPrompt
from servers.local.protocol import ChatCompletionRequest, ErrorBody, ErrorResponse, ModelCard, ModelList
from servers.local.serving import ChatService

router = APIRouter()

# Set when image parts were replaced by "[image]" because the served model reads text only.
IMAGES_DROPPED_HEADER = "X-Mien-Images-Dropped"


def _service(request: Request) -> ChatService:
    service: ChatService = request.app.state.chat_service
    return service


def _headers(rendered: RenderedPrompt) -> dict[str, str]:
    return {IMAGES_DROPPED_HEADER: str(rendered.images_dropped)} if rendered.images_dropped else {}


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    """200 ``{"status": "ok"}`` once the model is loaded; 503 while loading or after a failed load."""
    report = _service(request).health()
    return JSONResponse(report.model_dump(exclude_none=True), status_code=200 if report.status == "ok" else 503)


@router.get("/v1/models")
async def list_models(request: Request) -> ModelList:
    service = _service(request)
    return ModelList(data=[ModelCard(id=service.served_name, created=service.created)])


@router.post("/v1/chat/completions", response_model=None)
async def chat_completions(body: ChatCompletionRequest, request: Request) -> JSONResponse | StreamingResponse:
    service = _service(request)
    if body.stream:
        events, rendered = await service.open_stream(body)
        return StreamingResponse(events, media_type="text/event-stream", headers=_headers(rendered))
    response, rendered = await service.complete(body)
    return JSONResponse(response.model_dump(), headers=_headers(rendered))


def _error_json(error: APIError) -> JSONResponse:
    return JSONResponse(error.to_response().model_dump(), status_code=error.status_code, headers=error.headers or None)


async def _api_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, APIError)
    return _error_json(error)


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 becomes OpenAI's 400, naming the first offending field."""
    assert isinstance(error, RequestValidationError)
    problems = error.errors()
    first = problems[0] if problems else {}
    if first.get("type") == "json_invalid":
        detail = first.get("ctx", {}).get("error", "")
        return _error_json(invalid_request(f"the request body is not valid JSON: {detail}".rstrip(": ")))
    location = [str(part) for part in first.get("loc", ()) if part != "body"]
    param = ".".join(location) or None
    messages = "; ".join(_describe(problem) for problem in problems[:5])
    return _error_json(invalid_request(f"invalid request: {messages}", param=param))


def _describe(problem: Any) -> str:
    where = ".".join(str(part) for part in problem.get("loc", ()) if part != "body")
    message = str(problem.get("msg", "")).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    kind = "invalid_request_error" if error.status_code < 500 else "server_error"
    body = ErrorResponse(error=ErrorBody(message=str(error.detail), type=kind, code=str(error.status_code)))
    return JSONResponse(body.model_dump(), status_code=error.status_code)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)

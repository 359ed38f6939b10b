"""The web server's routes: the page, uploads, media, perception and answers as server-sent events, threads."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from servers.web.events import stream_work
from servers.web.protocol import AskRequest, ErrorBody, ErrorResponse, MediaItem, OpenRequest, ThreadSummary
from servers.web.serving import WebServing
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

STATIC = Path(__file__).parent / "static"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

# Most specific first: the first matching class gives the status.
_STATUS: tuple[tuple[type[MienError], int], ...] = (
    (NotFoundError, 404),
    (AccessDeniedError, 403),
    (MediaTooLargeError, 413),
    (UnsupportedMediaTypeError, 415),
    (MediaError, 422),
    (ConfigError, 400),
    (ServiceError, 503),
)

router = APIRouter()


def _serving(request: Request) -> WebServing:
    serving: WebServing = request.app.state.web
    return serving


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/static/{name}", include_in_schema=False)
def static(name: str) -> FileResponse:
    path = STATIC / name
    if name not in {p.name for p in STATIC.iterdir()}:
        raise NotFoundError(f"no static file {name!r}")
    return FileResponse(path)


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.post("/api/uploads", status_code=201)
async def upload(request: Request, name: str | None = None) -> MediaItem:
    """The request body is the file itself (no multipart): streamed to disk, stopped at the size limit."""
    declared = request.headers.get("content-length")
    filename = name or request.headers.get("x-filename")
    return await _serving(request).uploads.save(
        request.stream(), filename, int(declared) if declared and declared.isdigit() else None
    )


@router.post("/api/open", status_code=201)
async def open_path(request: Request, body: OpenRequest) -> MediaItem:
    return await _serving(request).open_path(body.path)


@router.get("/api/media/{media_id}")
def media_info(request: Request, media_id: str) -> MediaItem:
    return _serving(request).uploads.get(media_id)


@router.get("/media/{media_id}", include_in_schema=False)
def media_file(request: Request, media_id: str) -> FileResponse:
    """The uploaded file itself, with range requests (the video element seeks with them)."""
    return FileResponse(_serving(request).uploads.path(media_id))


@router.get("/api/media/{media_id}/overview")
def overview(request: Request, media_id: str) -> StreamingResponse:
    """Perception of the file as SSE: ``progress`` events per stage, then ``done`` with the ``Overview``."""
    serving = _serving(request)
    serving.uploads.get(media_id)  # an unknown id is a 404 now, not an event inside a 200 stream
    stream = stream_work(lambda emit: serving.overview(media_id, emit))
    return StreamingResponse(stream, media_type="text/event-stream", headers=SSE_HEADERS)


@router.post("/api/ask")
def ask(request: Request, body: AskRequest) -> StreamingResponse:
    """One turn as SSE: ``thread``, ``progress``, ``tool`` and ``token`` events, then ``done`` with the ``Turn``."""
    serving = _serving(request)
    serving.uploads.path(body.media_id)  # a file never uploaded is a 404 before any stream starts
    if body.thread_id is not None:
        serving.threads.get(body.thread_id)
    if not body.question.strip():
        raise ConfigError("the question is empty")
    stream = stream_work(lambda emit: serving.ask(body, emit))
    return StreamingResponse(stream, media_type="text/event-stream", headers=SSE_HEADERS)


@router.get("/api/threads")
def threads(request: Request) -> list[ThreadSummary]:
    return _serving(request).threads.list()


@router.get("/api/threads/{thread_id}")
def thread(request: Request, thread_id: str) -> dict[str, object]:
    return _serving(request).history(thread_id)


@router.get("/files/{relative:path}", include_in_schema=False)
def data_file(request: Request, relative: str) -> FileResponse:
    """A picture the page shows (key frame, timeline plot), and nothing else of the home folder."""
    return FileResponse(_serving(request).picture_path(relative))


def install_error_handlers(app: FastAPI) -> None:
    """Every ``MienError`` becomes a JSON error with the status its class maps to, and the message."""

    async def on_mien_error(_: Request, error: Exception) -> JSONResponse:
        status = next((code for cls, code in _STATUS if isinstance(error, cls)), 500)
        body = ErrorResponse(error=ErrorBody(type=type(error).__name__, message=str(error)))
        return JSONResponse(body.model_dump(), status_code=status)

    async def on_http_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, StarletteHTTPException)
        message = "no such page or file" if error.status_code == 404 else str(error.detail)
        body = ErrorResponse(error=ErrorBody(type="HTTPError", message=message))
        return JSONResponse(body.model_dump(), status_code=error.status_code)

    async def on_invalid_request(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(part) for part in e['loc'] if part != 'body')}: {e['msg']}" for e in error.errors()
        )
        body = ErrorResponse(error=ErrorBody(type="InvalidRequest", message=f"invalid request: {problems}"))
        return JSONResponse(body.model_dump(), status_code=400)

    app.add_exception_handler(MienError, on_mien_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)

"""HTTP routes of the gallery server (``/v1/gallery/...`` and ``/health``): translation only, no logic.

Handlers are plain ``def`` so FastAPI runs the CPU-bound ciphertext work in its thread pool.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from servers.gallery.protocol import (
    EnrollRequest,
    ErrorBody,
    ErrorResponse,
    FetchRequest,
    FetchResponse,
    GalleryInfo,
    HealthReport,
    InitRequest,
    LayoutResponse,
    MutationResponse,
    PreselectRequest,
    PreselectResponse,
    RemoveRequest,
    ScoreRequest,
    ScoreResponse,
)
from servers.gallery.serving import GalleryServing, error_response
from servers.security.guard import LOCAL_ACTOR
from tools.encrypted.engine import GalleryEngine
from tools.errors import MienError

router = APIRouter()
PREFIX = "/v1/gallery"


def _engine(request: Request) -> GalleryEngine:
    serving: GalleryServing = request.app.state.gallery
    return serving.engine


def _actor(request: Request) -> str:
    """Who made a change, for the audit log: the API key's name (``servers.security``), else "local"."""
    return str(getattr(request.state, "api_key_name", LOCAL_ACTOR))


def route_scope(method: str, path: str) -> str | None:
    """The API-key scope each route needs: changes need ``enroll``; reading and searching need ``identify``."""
    if path == "/health":
        return None
    if path in (PREFIX + "/init", PREFIX + "/enroll", PREFIX + "/remove"):
        return "enroll"
    return "identify"


@router.get("/health")
def health(request: Request) -> HealthReport:
    serving: GalleryServing = request.app.state.gallery
    return serving.health()


@router.get(PREFIX)
def info(request: Request) -> GalleryInfo:
    return _engine(request).info()


@router.post(PREFIX + "/init")
def init(body: InitRequest, request: Request) -> GalleryInfo:
    return _engine(request).init(body, actor=_actor(request))


@router.get(PREFIX + "/layout")
def layout(request: Request) -> LayoutResponse:
    return _engine(request).layout()


@router.post(PREFIX + "/enroll")
def enroll(body: EnrollRequest, request: Request) -> MutationResponse:
    return _engine(request).enroll(body, actor=_actor(request))


@router.post(PREFIX + "/remove")
def remove(body: RemoveRequest, request: Request) -> MutationResponse:
    return _engine(request).remove(body, actor=_actor(request))


@router.post(PREFIX + "/fetch")
def fetch(body: FetchRequest, request: Request) -> FetchResponse:
    return _engine(request).fetch(body)


@router.post(PREFIX + "/preselect")
def preselect(body: PreselectRequest, request: Request) -> PreselectResponse:
    return _engine(request).preselect(body)


@router.post(PREFIX + "/score")
def score(body: ScoreRequest, request: Request) -> ScoreResponse:
    return _engine(request).score(body)


async def _mien_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, MienError)
    status, body = error_response(error)
    return JSONResponse(body.model_dump(), status_code=status)


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in problem.get('loc', ()) if p != 'body') or 'body'}: {problem.get('msg', '')}"
        for problem in error.errors()[:5]
    )
    body = ErrorResponse(error=ErrorBody(type="GalleryError", message=f"invalid request: {problems}"))
    return JSONResponse(body.model_dump(), status_code=422)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(MienError, _mien_error)
    app.add_exception_handler(RequestValidationError, _validation_error)

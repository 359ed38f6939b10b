"""The resident service's HTTP routes (over its unix socket): status, ask and run (streamed JSON lines), history,
shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from agent.service.protocol import (
    API_PREFIX,
    AskRequest,
    HistoryRequest,
    HistoryResponse,
    RunRequest,
    ServiceStatus,
)
from agent.service.serving import ServiceState
from tools.errors import MienError

router = APIRouter(prefix=API_PREFIX)


def _state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


@router.get("/status")
def status(request: Request) -> ServiceStatus:
    return _state(request).status()


@router.post("/ask")
def ask(body: AskRequest, request: Request) -> StreamingResponse:
    return StreamingResponse(_state(request).ask_events(body), media_type="application/x-ndjson")


@router.post("/run")
def run(body: RunRequest, request: Request) -> StreamingResponse:
    return StreamingResponse(_state(request).run_events(body), media_type="application/x-ndjson")


@router.post("/history")
def history(body: HistoryRequest, request: Request) -> HistoryResponse:
    return HistoryResponse(turns=_state(request).history(body.thread))


@router.post("/shutdown")
def shutdown(request: Request) -> dict[str, bool]:
    _state(request).request_stop()
    return {"stopping": True}


def create_app(state: ServiceState) -> FastAPI:
    """The app around ``state``: loading starts with the app, everything is released when it stops."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state.start()
        try:
            yield
        finally:
            state.close()

    app = FastAPI(title="Mien resident service", lifespan=lifespan)
    app.state.service = state
    app.include_router(router)

    @app.exception_handler(MienError)
    async def mien_error(_: Request, error: MienError) -> JSONResponse:
        return JSONResponse(
            status_code=409, content={"kind": type(error).__name__, "message": str(error), "exit_code": error.exit_code}
        )

    return app

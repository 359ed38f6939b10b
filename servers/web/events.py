"""Server-sent events from blocking work: the work runs in a thread, its events stream to the browser as they come.

Each event is ``event: NAME`` plus one JSON ``data:`` line. The stream always ends with ``done`` (the work's result)
or ``error`` (a ``MienError``'s message, or "internal error" for a bug, logged with its traceback), so the page
never waits on a stream that died; a client that goes away leaves the work to finish in its thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from pydantic import BaseModel

from tools.errors import MienError

log = logging.getLogger(__name__)

Emit = Callable[[str, dict[str, Any]], None]
_END = object()
KEEPALIVE_S = 15.0


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def stream_work(work: Callable[[Emit], BaseModel]) -> AsyncIterator[str]:
    """Run ``work(emit)`` in a thread; yield each emitted event, then ``done`` with its result or ``error``."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Any] = asyncio.Queue()

    def emit(event: str, data: dict[str, Any]) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, (event, data))

    def run() -> None:
        try:
            result = work(emit)
            emit("done", result.model_dump())
        except MienError as error:
            emit("error", {"type": type(error).__name__, "message": str(error)})
        except Exception:  # a bug must end this stream with a message, not hang the page or stop the server
            log.exception("web work failed")
            emit("error", {"type": "InternalError", "message": "internal error (see the server log)"})
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, _END)

    threading.Thread(target=run, name="mien-web-work", daemon=True).start()
    while True:
        try:
            item = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_S)
        except TimeoutError:
            yield ": keep-alive\n\n"
            continue
        if item is _END:
            return
        yield sse(*item)

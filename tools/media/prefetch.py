"""Running a producer (decoding, meshing) one step ahead of its consumer, on the other core.

Video decoding and mediapipe's graph spend their time in C++ with the GIL released, while the per-frame Python
that consumes their output (region features, the spotter) holds it: running the producer in a thread overlaps the
two, which on a 2-core machine is the difference between spotting at 4x and at 5x real time. The queue is bounded
(``depth`` items), so memory stays flat however far ahead the producer could run.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class _Failure:
    """An exception raised by the producer, carried across the queue to be re-raised in the consumer."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


_DONE = object()


class _Worker(Generic[T]):
    def __init__(self, source: Iterable[T], depth: int) -> None:
        self.items: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(source,), name="mien-prefetch", daemon=True)

    def _put(self, item: object) -> bool:
        while not self.stopping.is_set():
            try:
                self.items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, source: Iterable[T]) -> None:
        iterator = iter(source)
        try:
            for item in iterator:
                if not self._put(item):
                    break
        except BaseException as error:
            self._put(_Failure(error))
            return
        finally:
            close = getattr(iterator, "close", None)
            if callable(close):
                close()  # a generator's finally (e.g. the damaged-media warning) runs here, in its own thread
        self._put(_DONE)

    def stop(self) -> None:
        self.stopping.set()
        while True:  # unblock a producer waiting on a full queue
            try:
                self.items.get_nowait()
            except queue.Empty:
                break
        self.thread.join()


def prefetched(source: Iterable[T], depth: int = 8) -> Generator[T, None, None]:
    """Yield ``source``'s items in order while a thread computes the next ones (at most ``depth`` ahead).

    Exceptions from the producer are raised here, at the item where they happened; stopping early (``break``,
    ``close()``) stops and joins the producer, and the source's own cleanup runs.
    """
    worker: _Worker[T] = _Worker(source, depth)
    worker.thread.start()
    try:
        while True:
            item = worker.items.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        worker.stop()

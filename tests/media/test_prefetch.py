"""The read-ahead thread: order kept, errors raised where they happened, early stops clean up, memory bounded."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tools.media.prefetch import prefetched


def test_items_come_in_order() -> None:
    assert list(prefetched(iter(range(100)), depth=3)) == list(range(100))


def test_producer_error_is_raised_after_the_items_before_it() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("packet 3 is broken")

    seen: list[int] = []
    with pytest.raises(ValueError, match="packet 3 is broken"):
        for item in prefetched(failing()):
            seen.append(item)
    assert seen == [1, 2]


def test_stopping_early_closes_the_source_and_joins_the_thread() -> None:
    closed = threading.Event()

    def endless() -> Iterator[int]:
        try:
            n = 0
            while True:
                yield n
                n += 1
        finally:
            closed.set()

    before = threading.active_count()
    stream = prefetched(endless(), depth=2)
    assert [next(stream) for _ in range(5)] == [0, 1, 2, 3, 4]
    stream.close()
    assert closed.is_set()  # the source's finally ran (the damaged-media warning lives there)
    assert threading.active_count() == before


def test_the_producer_runs_at_most_depth_items_ahead() -> None:
    produced: list[int] = []

    def counting() -> Iterator[int]:
        for n in range(50):
            produced.append(n)
            yield n

    stream = prefetched(counting(), depth=4)
    assert next(stream) == 0
    time.sleep(0.3)  # time enough for an unbounded producer to finish all 50
    assert len(produced) <= 1 + 4 + 1  # the item taken, a full queue, and one waiting to be put
    stream.close()

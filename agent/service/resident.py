"""The resident service's own agent session, for a ``mien ask`` the service runs as a command (``/v1/run``).

Inside the service, ``mien ask`` must answer with the session the service already holds (its chat model, its
tools, its threads), not look for a service (itself, whose one lock the run holds) or start a chat model of its
own. ``hosting`` makes the session current for one run; ``resident_session`` is what ``mien ask`` asks first.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.session import AgentSession

_current: ContextVar[AgentSession | None] = ContextVar("mien_resident_session", default=None)


def resident_session() -> AgentSession | None:
    """The service's session while the service runs a command on this thread; None anywhere else."""
    return _current.get()


@contextlib.contextmanager
def hosting(session: AgentSession | None) -> Iterator[None]:
    token = _current.set(session)
    try:
        yield
    finally:
        _current.reset(token)

"""A ``GalleryService`` wrapper that records what the server was asked: the server's view of the traffic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.encrypted.messages import GalleryService


@dataclass
class RecordingService:
    """Passes every call to ``inner`` and keeps (operation, request) pairs."""

    inner: GalleryService
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def __getattr__(self, operation: str) -> Any:
        target = getattr(self.inner, operation)

        def call(*args: Any) -> Any:
            self.calls.append((operation, args[0] if args else None))
            return target(*args)

        return call

    def requests(self, operation: str) -> list[Any]:
        return [request for name, request in self.calls if name == operation]

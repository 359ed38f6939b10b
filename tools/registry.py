"""A typed registry of named model backends, shared by every capability.

Each entry knows how to build its backend, where its weights come from, and whether they are present, so that
``mien models`` can list every backend and say what is ready without loading anything heavy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from tools.errors import ConfigError

T = TypeVar("T")


@dataclass
class BackendEntry(Generic[T]):
    """One named backend: how to build it, and where its weights come from."""

    task: str
    name: str
    factory: Callable[[], T]
    description: str
    weights: Callable[[], str]
    ready: Callable[[], bool]
    default: bool = False


@dataclass
class Registry(Generic[T]):
    """Backends of one task (``detector``, ``embedder``...). Built backends are cached: weights load once."""

    task: str
    _entries: dict[str, BackendEntry[T]] = field(default_factory=dict)
    _built: dict[str, T] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(
        self,
        name: str,
        factory: Callable[[], T],
        *,
        description: str,
        weights: Callable[[], str],
        ready: Callable[[], bool],
        default: bool = False,
    ) -> None:
        self._entries[name] = BackendEntry(self.task, name, factory, description, weights, ready, default)

    def names(self) -> list[str]:
        return list(self._entries)

    def entries(self) -> list[BackendEntry[T]]:
        return list(self._entries.values())

    def build(self, name: str) -> T:
        """The backend called ``name``, built on first use and cached for the process."""
        if name not in self._entries:
            known = ", ".join(sorted(self._entries)) or "none"
            raise ConfigError(f"unknown {self.task} backend {name!r}; known: {known}")
        with self._lock:
            if name not in self._built:
                self._built[name] = self._entries[name].factory()
            return self._built[name]


ALL_REGISTRIES: list[Registry[object]] = []


def new_registry(task: str) -> Registry[T]:
    """Create a registry for ``task`` and remember it for ``mien models``."""
    registry: Registry[T] = Registry(task)
    ALL_REGISTRIES.append(registry)  # type: ignore[arg-type]
    return registry

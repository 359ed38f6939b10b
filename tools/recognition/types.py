"""Identity results and the gallery protocol that both the plaintext and the encrypted galleries implement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

MatchMethod = Literal["plaintext", "encrypted"]


@dataclass(frozen=True)
class Candidate:
    """One gallery identity and its cosine similarity to the probe."""

    name: str
    score: float


@dataclass(frozen=True)
class Identity:
    """Who a probe face is. ``name`` is None when the best score is below the backend's threshold (unknown)."""

    name: str | None
    score: float
    threshold: float
    method: MatchMethod
    embedder: str
    candidates: tuple[Candidate, ...] = field(default_factory=tuple)

    @property
    def is_known(self) -> bool:
        return self.name is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "known": self.is_known,
            "score": round(float(self.score), 4),
            "threshold": round(float(self.threshold), 4),
            "method": self.method,
            "embedder": self.embedder,
            "candidates": [{"name": c.name, "score": round(float(c.score), 4)} for c in self.candidates],
        }


class IdentityGallery(Protocol):
    """A store of named identities with several templates each (L2-normalised embeddings of one backend)."""

    def enroll(self, name: str, embeddings: np.ndarray, embedder: str) -> int:
        """Add templates (n, dim) for ``name``; returns how many templates ``name`` now has."""
        ...

    def remove(self, name: str) -> int:
        """Delete ``name`` and its templates; returns how many were removed. Unknown names raise
        ``UnknownIdentityError``."""
        ...

    def names(self) -> list[tuple[str, int]]:
        """(name, template count) for every enrolled identity, sorted by name."""
        ...

    def identify(self, probe: np.ndarray, embedder: str, threshold: float, top_k: int = 5) -> Identity:
        """The best-matching identity for one L2-normalised probe (dim,), or unknown below ``threshold``."""
        ...

"""The protocol every speech-to-text backend implements, and what it returns.

Voice activity detection, prosody and input checks happen once in ``tools.speech.transcribe``; a backend only
decodes the speech regions it is given, so that all backends behave alike on silence and bad input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from tools.speech.types import Segment, SpeechRegion


@dataclass(frozen=True)
class Recognition:
    """A backend's raw result: segments (without prosody) and the language it decoded in."""

    segments: list[Segment]
    language: str | None
    language_probability: float | None


@runtime_checkable
class Transcriber(Protocol):
    """Turns 16 kHz mono float32 samples, shape (n,), into timed segments and words.

    ``name`` is the registry name, ``model`` names the weights and precision (for provenance in results),
    ``multilingual`` says whether ``language`` may be anything but English. ``on_progress`` receives the end time
    in seconds of each decoded segment, so callers can show progress on long files.
    """

    name: str
    model: str
    multilingual: bool

    def recognize(
        self,
        samples: np.ndarray,
        *,
        regions: Sequence[SpeechRegion],
        language: str | None,
        word_timestamps: bool,
        on_progress: Callable[[float], None] | None = None,
    ) -> Recognition: ...

"""Speech made at test time with espeak-ng, written into the test's own temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tools.speech.espeak import synthesize_speech

SENTENCE = "Hello, my name is Alice and I am very happy to meet you today."
SECOND_SENTENCE = "Thank you very much for coming to the meeting this afternoon."

Speak = Callable[..., Path]


@pytest.fixture
def speak(tmp_path: Path) -> Speak:
    """``speak(text, name="speech.wav", words_per_minute=175, pitch=50)`` writes espeak-ng speech to tmp_path."""

    def make(text: str = SENTENCE, name: str = "speech.wav", **options: Any) -> Path:
        return synthesize_speech(text, tmp_path / name, **options)

    return make

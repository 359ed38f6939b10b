"""Fixtures of the agent tests: media files written from real photos, and agent sessions on an endpoint."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from langchain_core.tools import BaseTool

from agent.model import ChatEndpoint
from agent.session import AgentSession, open_threads
from evals import clips, samples
from tools.media import load_audio, save_image
from tools.settings import get_settings

SPEECH = "Good morning everyone. The weather is lovely today and the garden is full of flowers."

SessionOn = Callable[..., contextlib.AbstractContextManager[AgentSession]]


@pytest.fixture()
def astronaut_png(tmp_path: Path, astronaut: np.ndarray) -> str:
    return str(save_image(tmp_path / "astronaut.png", astronaut))


@pytest.fixture()
def group_jpg() -> str:
    return str(samples.group_photo_path())


@pytest.fixture(scope="session")
def speech_clip(media_dir: Path) -> Path:
    """6 s of the astronaut panning, with espeak-ng saying ``SPEECH``."""
    wav = media_dir / "speech.wav"
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(wav), SPEECH], check=True)
    return clips.pan_zoom_clip(media_dir / "speech.mp4", seconds=6.0, audio=load_audio(wav))


@pytest.fixture()
def session_on() -> SessionOn:
    """``with session_on(endpoint[, tools]) as session``: an agent session on that endpoint with this test's
    MIEN_HOME (its own connection to the thread store, as a new process would have)."""

    @contextlib.contextmanager
    def open_session(endpoint: ChatEndpoint, tools: list[BaseTool] | None = None) -> Iterator[AgentSession]:
        settings = get_settings()
        with open_threads(settings) as saver:
            yield AgentSession.for_endpoint(endpoint, settings, saver, tools)

    return open_session

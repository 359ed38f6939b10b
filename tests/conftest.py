"""Shared fixtures: real photos shipped by packages, clips composed from them, and an isolated MIEN_HOME."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# `mien ask` would otherwise start a resident service that outlives the test; tests/agent/test_service.py turns it on.
os.environ.setdefault("MIEN_SERVICE", "off")

from evals import clips, samples
from tools.media import load_image
from tools.settings import get_settings


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own MIEN_HOME, so galleries, caches and threads never leak between tests."""
    home = tmp_path / "mien-home"
    monkeypatch.setenv("MIEN_HOME", str(home))
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return samples.astronaut()


@pytest.fixture(scope="session")
def group_photo() -> np.ndarray:
    return load_image(samples.group_photo_path())


@pytest.fixture(scope="session")
def tom_hanks() -> np.ndarray:
    return load_image(samples.tom_hanks_path())


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def pan_clip(media_dir: Path) -> Path:
    """4 s, 10 fps, 640x360: the astronaut panning and zooming."""
    return clips.pan_zoom_clip(media_dir / "pan.mp4")


@pytest.fixture(scope="session")
def crossing_clip(media_dir: Path) -> Path:
    """4 s, 10 fps: the astronaut and a man from t1.jpg crossing each other."""
    return clips.crossing_clip(media_dir / "crossing.mp4")


@pytest.fixture(scope="session")
def speaker_clip(media_dir: Path) -> Any:
    """10.4 s, 10 fps: the astronaut (left) then Monica (right) speaking in turn (espeak-ng), mouths warped to the
    speech; the astronaut touches her neck while Monica speaks. An ``evals.speaker_clips.SpeakerClip``."""
    from evals.speaker_clips import speaker_clip as make

    return make(media_dir / "speakers.mp4")

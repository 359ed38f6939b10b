"""Clips for the spotting tests, composed from real photos with expressions warped in at known frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evals.clips import background
from evals.spotting.clips import ClipSpec, Event, person_image, write_clip
from tools.media import write_video

# 6 s at 30 fps of Monica from insightface's t1.jpg: a smile over frames 60-67 (8 frames: a micro-expression),
# mouth corners down over 110-159 (50 frames: a macro-expression), head motion, light drift, noise, H.264.
EXPRESSION_CLIP = ClipSpec(
    "expressions", "t1_person1", 6.0, 30.0,
    events=(Event("Happiness", 60, 67, 0.11), Event("Sadness", 110, 159, 0.12)),
    motion_px=6.0, motion_deg=1.0, light=0.08, noise=1.5, crf=24, seed=5,
)


@pytest.fixture(scope="session")
def expression_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_clip(EXPRESSION_CLIP, tmp_path_factory.mktemp("spotting"))


@pytest.fixture(scope="session")
def flash_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s at 30 fps of an empty backdrop with a face on frames 20-22 only (a track that lasts 3 frames)."""
    face, _ = person_image("tom_hanks", 220)
    base = background(480, 360)

    def frames():  # type: ignore[no-untyped-def]
        for index in range(60):
            frame = base.copy()
            if 20 <= index <= 22:
                frame[70 : 70 + face.shape[0], 130 : 130 + face.shape[1]] = face[:, : min(face.shape[1], 350)]
            yield frame

    return write_video(tmp_path_factory.mktemp("spotting") / "flash.mp4", frames(), 30.0)


@pytest.fixture(scope="session")
def single_frame_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    face, _ = person_image("tom_hanks", 220)
    frame = background(480, 360)
    frame[70 : 70 + face.shape[0], 130 : 130 + min(face.shape[1], 350)] = face[:, :350]
    return write_video(tmp_path_factory.mktemp("spotting") / "one.mp4", [frame], 30.0)


@pytest.fixture(scope="session")
def faceless_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = background(320, 240)
    noise = np.random.default_rng(0)
    frames = (np.clip(base + noise.normal(0, 2, base.shape), 0, 255).astype(np.uint8) for _ in range(45))
    return write_video(tmp_path_factory.mktemp("spotting") / "nobody.mp4", frames, 30.0)

"""Shared fixtures of the personalization tests: the tiny random Stable Diffusion pipeline of the cloak tests and
two reference photos (the astronaut and her mirror image). Everything here tests machinery, not image quality: a
randomly initialised 32x32 pipeline cannot draw a face."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from tests.cloak.tiny_sd import build_tiny_sd
from tools.media.image import save_image

torch.set_num_threads(1)

TEMPLATES = ("a photo of {}", "{}")  # short: the tiny byte-level tokenizer keeps 16 tokens


@pytest.fixture(scope="session")
def tiny_sd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_sd(tmp_path_factory.mktemp("personalize-sd"))


@pytest.fixture(scope="session")
def photos(astronaut: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("personalize-photos")
    return [save_image(folder / "eileen.png", astronaut), save_image(folder / "eileen-mirror.png", astronaut[:, ::-1])]


@pytest.fixture(scope="session")
def references(photos: list[Path]) -> list:
    from tools.personalize.photos import reference_faces

    return reference_faces(photos, 32)

"""The DiffAIM path end to end on a tiny random Stable Diffusion pipeline the test builds (machinery only: its
output cannot look natural), and clear errors for missing or incomplete SD folders."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from tools.cloak import CloakOptions, cloak_image
from tools.cloak.diffaim import DiffaimSettings, load_pipeline
from tools.cloak.masks import union_mask
from tools.errors import ModelUnavailableError
from tools.faces.pipeline import FaceOptions, analyze_image

from .tiny_sd import build_tiny_sd


@pytest.fixture(scope="module")
def tiny_sd(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_sd(tmp_path_factory.mktemp("tiny-sd"))


def test_missing_and_incomplete_folders_name_the_missing_part(tiny_sd: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="no such Stable Diffusion folder"):
        load_pipeline(tmp_path / "nowhere")
    broken = tmp_path / "broken"
    shutil.copytree(tiny_sd, broken)
    shutil.rmtree(broken / "vae")
    with pytest.raises(ModelUnavailableError, match="vae is missing"):
        load_pipeline(broken)


@pytest.mark.slow
def test_diffaim_runs_through_the_tiny_pipeline(astronaut: np.ndarray, tiny_sd: Path) -> None:
    faces = analyze_image(astronaut, FaceOptions(mesh=True, pose=False, embeddings=False))
    calls: list[tuple[int, int]] = []
    image, result = cloak_image(
        astronaut,
        CloakOptions(method="diffaim", sd_model=str(tiny_sd)),
        faces=faces,
        progress=lambda done, total: calls.append((done, total)),
        diffaim=DiffaimSettings(steps=4, attack_steps=2, inner=1, crop_px=32),
        sd_pipeline=load_pipeline(tiny_sd),
    )
    assert calls[-1] == (4, 4) and result.method == "diffaim"
    assert image.shape == astronaut.shape and image.dtype == np.uint8
    changed = np.abs(image.astype(int) - astronaut).sum(axis=2) > 0
    assert changed.any()
    assert not changed[union_mask(faces, *astronaut.shape[:2]) == 0].any()  # only the face region was replaced
    assert np.isfinite(result.faces[0].source_distance["dlib-resnet"])


def test_diffaim_without_a_model_folder_is_a_clear_error(astronaut: np.ndarray) -> None:
    from tools.errors import ConfigError

    faces = analyze_image(astronaut, FaceOptions(mesh=True, pose=False, embeddings=False))
    with pytest.raises(ConfigError, match="needs a Stable Diffusion folder"):
        cloak_image(astronaut, CloakOptions(method="diffaim", steps=2), faces=faces)

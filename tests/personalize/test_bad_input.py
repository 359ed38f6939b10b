"""Bad input to personalization gets a MienError that names the problem: no model configured, a missing or
incomplete Stable Diffusion folder (naming the missing part), photos without a face or with several, prompts without
the person or too long for the tokenizer, files that are not personalizations, a model of the wrong width."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from evals.samples import group_photo_path
from tools.cloak.diffaim import REQUIRED_PARTS
from tools.errors import ConfigError, MienError, ModelUnavailableError, NoFaceError
from tools.media.image import save_image
from tools.personalize import PersonalizeOptions, generate_portraits, train_person
from tools.personalize.generation import resolve_prompt
from tools.personalize.model import load_sd, tokenize
from tools.personalize.state import Personalization, apply, save

ONE_STEP = PersonalizeOptions(steps=1)


def test_no_model_configured_says_how_to_configure_one(photos: list[Path]) -> None:
    with pytest.raises(ModelUnavailableError, match=r"no Stable Diffusion model is configured.*MIEN_SD_MODEL"):
        train_person("Eileen", photos, None, ONE_STEP)


def test_a_missing_folder_is_named(photos: list[Path], tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match="nowhere: no such Stable Diffusion folder"):
        train_person("Eileen", photos, tmp_path / "nowhere", ONE_STEP)


@pytest.mark.parametrize("part", REQUIRED_PARTS)
def test_an_incomplete_folder_names_the_missing_part(
    tiny_sd: Path, photos: list[Path], tmp_path: Path, part: str
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_sd, broken)
    missing = broken / part
    shutil.rmtree(missing) if missing.is_dir() else missing.unlink()
    with pytest.raises(ModelUnavailableError, match=f"incomplete Stable Diffusion folder, {part} is missing"):
        train_person("Eileen", photos, broken, ONE_STEP)


def test_a_photo_without_a_face_is_named(tiny_sd: Path, photos: list[Path], tmp_path: Path) -> None:
    grey = save_image(tmp_path / "grey.png", np.full((128, 128, 3), 128, np.uint8))
    with pytest.raises(NoFaceError, match=r"grey\.png: no face found"):
        train_person("Eileen", [photos[0], grey], tiny_sd, ONE_STEP)


def test_a_photo_with_several_faces_is_refused(tiny_sd: Path) -> None:
    with pytest.raises(MienError, match=r"t1.jpg: [2-9] faces found; each photo must show only the person"):
        train_person("Eileen", [group_photo_path()], tiny_sd, ONE_STEP)


def test_no_photos_and_zero_steps_are_refused(tiny_sd: Path, photos: list[Path]) -> None:
    with pytest.raises(ConfigError, match="at least one photo"):
        train_person("Eileen", [], tiny_sd, ONE_STEP)
    with pytest.raises(ConfigError, match="at least one step"):
        train_person("Eileen", photos, tiny_sd, PersonalizeOptions(steps=0))
    with pytest.raises(ConfigError, match="cannot name a personalization"):
        train_person("!!!", photos, tiny_sd, ONE_STEP)


def _learned(text_dim: int = 32) -> Personalization:
    return Personalization(
        name="Eileen", method="textual-inversion", placeholder="<eileen>", token_strings=["<eileen>"],
        tokens=torch.zeros(1, text_dim), embedder="dlib-resnet", reference_embedding=np.ones(128, np.float32),
        photos=[], model="/nowhere",
    )  # fmt: skip


def test_prompts_must_name_the_person_and_fit_the_tokenizer(tiny_sd: Path) -> None:
    learned = _learned()
    assert resolve_prompt("Eileen in the snow", learned) == "<eileen> in the snow"
    assert resolve_prompt("<eileen> as a painter", learned) == "<eileen> as a painter"
    with pytest.raises(ConfigError, match="must mention the person: write <eileen>"):
        resolve_prompt("a painter in the snow", learned)
    pipe = load_sd(tiny_sd)
    applied = apply(learned, pipe)
    with pytest.raises(ConfigError, match=r"too long for the tokenizer \(16 tokens\)"):
        tokenize(pipe, ["a very long description of a painting of <eileen>"], applied.ids)


def test_unknown_and_foreign_personalization_files(tiny_sd: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such personalization file"):
        generate_portraits("Nobody", "<nobody>", tmp_path, model=tiny_sd)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a tensor file")
    with pytest.raises(ConfigError, match=r"junk\.safetensors: not a readable personalization file"):
        generate_portraits(junk, "<eileen>", tmp_path, model=tiny_sd)


def test_a_personalization_from_another_model_width_is_refused(tiny_sd: Path, tmp_path: Path) -> None:
    path = save(_learned(text_dim=48), tmp_path / "wide.safetensors")
    with pytest.raises(ConfigError, match="text encoder of width 48, this model's is 32"):
        generate_portraits(path, "<eileen>", tmp_path, model=tiny_sd)


def test_face_crops_stay_inside_the_photo() -> None:
    from tools.faces.types import Box, Face
    from tools.personalize.photos import square_crop

    image = np.random.default_rng(0).integers(0, 256, (60, 100, 3), dtype=np.uint8)
    corner = square_crop(image, Face(Box(0, 0, 20, 20), 1.0), 36)  # 1.8 x 20 px, pushed in from the corner
    assert np.array_equal(corner, image[:36, :36])
    whole = square_crop(image, Face(Box(0, 0, 100, 60), 1.0), 60)  # larger than the photo: its largest centred square
    assert np.array_equal(whole, image[:, 20:80])


def test_cuda_without_a_cuda_device_is_refused(tiny_sd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # as on this CPU machine, also on a GPU one
    with pytest.raises(ConfigError, match="no CUDA device is available here"):
        load_sd(tiny_sd, "cuda")


def test_mien_models_says_whether_a_stable_diffusion_model_is_ready(
    tiny_sd: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tools.personalize.backends import PORTRAIT_MODELS
    from tools.settings import get_settings

    (entry,) = PORTRAIT_MODELS.entries()
    assert entry.ready() is False and "set MIEN_SD_MODEL" in entry.weights()
    broken = tmp_path / "broken"
    shutil.copytree(tiny_sd, broken)
    shutil.rmtree(broken / "unet")
    monkeypatch.setenv("MIEN_SD_MODEL", str(broken))
    get_settings.cache_clear()
    assert entry.ready() is False and "unet is missing" in entry.weights()
    monkeypatch.setenv("MIEN_SD_MODEL", str(tiny_sd))
    get_settings.cache_clear()
    assert entry.ready() is True and entry.weights() == str(tiny_sd)

"""Attack synthesis on real photos: the artefacts each attack should leave are there, held-out settings do not
overlap training's, and the dataset written from them keeps identities apart."""

from __future__ import annotations

import shutil
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from tools.attack.dataset import check_disjoint_subjects, read_split, write_synthetic_dataset
from tools.attack.sources import PHOTO_SPLITS, photo_identities
from tools.attack.synthesis import HELDOUT_SETTINGS, TRAIN_SETTINGS, synthesize
from tools.errors import ConfigError


@pytest.fixture(scope="module")
def people() -> dict[str, np.ndarray]:
    return {identity.subject: identity.crop for identity in photo_identities()}


def high_frequency_share(image: np.ndarray) -> float:
    """Share of the grey spectrum's energy beyond half the Nyquist frequency."""
    grey = image.astype(np.float64).mean(axis=2)
    power = np.abs(np.fft.fft2(grey - grey.mean())) ** 2
    f = np.fft.fftfreq(grey.shape[0]) * 2
    radius = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
    return float(power[radius > 0.5].sum() / power.sum())


def test_every_photo_identity_is_found_and_aligned(people: dict[str, np.ndarray]) -> None:
    assert set(people) == {name for names in PHOTO_SPLITS.values() for name in names}
    for crop in people.values():
        assert crop.shape == (128, 128, 3) and crop.dtype == np.uint8


def test_held_out_attack_settings_never_overlap_training(people: dict[str, np.ndarray]) -> None:
    for field in fields(TRAIN_SETTINGS):
        train, held = getattr(TRAIN_SETTINGS, field.name), getattr(HELDOUT_SETTINGS, field.name)
        if field.name.startswith("camera_"):
            assert train == held  # one camera for every class and split
        else:
            assert train[1] < held[0] or held[1] < train[0], field.name


def mean_share(kind: str, crop: np.ndarray) -> float:
    return float(
        np.mean(
            [
                high_frequency_share(synthesize(kind, crop, crop, np.random.default_rng(seed), TRAIN_SETTINGS))
                for seed in range(3)
            ]
        )
    )


@pytest.mark.parametrize("kind", ["print", "replay"])
def test_print_and_replay_add_high_frequency_texture(people: dict[str, np.ndarray], kind: str) -> None:
    # halftone dots and the screen's subpixel grid alias into fine texture that the live photo does not have
    crop = people["astronaut"]
    assert mean_share(kind, crop) > 1.5 * mean_share("live", crop)


def test_a_swap_generated_at_low_resolution_loses_fine_detail(people: dict[str, np.ndarray]) -> None:
    crop = people["t1_person0"]
    assert mean_share("digital", crop) < 0.97 * mean_share("live", crop)


def test_a_swap_puts_the_donors_face_inside_and_keeps_the_targets_surroundings(people: dict[str, np.ndarray]) -> None:
    target, donor = people["astronaut"], people["grace_hopper"]
    swapped = synthesize("digital", target, donor, np.random.default_rng(0), TRAIN_SETTINGS).astype(np.float64)

    def corr(a: np.ndarray, b: np.ndarray) -> float:
        return float(
            np.corrcoef(a.astype(np.float64).mean(axis=2).ravel(), b.astype(np.float64).mean(axis=2).ravel())[0, 1]
        )

    inner, outer = (slice(50, 90), slice(45, 83)), (slice(0, 20), slice(0, 128))
    assert corr(swapped[inner], donor[inner]) > corr(swapped[inner], target[inner])
    assert corr(swapped[outer], target[outer]) > 0.95


def test_dataset_layout_keeps_subjects_apart(tmp_path: Path) -> None:
    counts = write_synthetic_dataset(tmp_path, seed=1, per_class={"train": 1, "val": 1, "test": 1}, lfw=False)
    assert counts["train"] == dict.fromkeys(["live", "print", "replay", "mask", "digital"], 5)
    splits = {name: read_split(tmp_path, name, 64) for name in ("train", "val", "test")}
    check_disjoint_subjects(splits)  # no error: identities are split by person
    assert splits["test"].images.shape == (15, 64, 64, 3)
    assert set(splits["test"].subjects) == set(PHOTO_SPLITS["test"])
    leaked = tmp_path / "test" / "live" / "astronaut"
    shutil.copytree(tmp_path / "train" / "live" / "astronaut", leaked)
    splits["test"] = read_split(tmp_path, "test", 64)
    with pytest.raises(ConfigError, match="astronaut"):
        check_disjoint_subjects(splits)


def test_bad_layouts_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no train/ folder"):
        read_split(tmp_path, "train", 64)
    (tmp_path / "train" / "selfies").mkdir(parents=True)
    with pytest.raises(ConfigError, match="unknown class folders"):
        read_split(tmp_path, "train", 64)

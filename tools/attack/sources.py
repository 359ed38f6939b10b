"""The real faces attacks are synthesized from: every photo of a real person that ships in an installed package.

Identities (one photo each unless noted): scikit-image's astronaut (Eileen Collins), matplotlib's Grace Hopper,
the six people of insightface's ``t1.jpg``, insightface's Tom Hanks, and the 100 face crops of scikit-image's LFW
subset (25 x 25 px; each crop is taken as its own identity, though LFW may repeat a person). Splits are by
identity, fixed here, so no person is in two of train / validation / test.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from tools.attack.crops import ALIGNED_SIZE_PX, align_face
from tools.errors import ModelUnavailableError, NoFaceError


@dataclass(frozen=True)
class Identity:
    """One real person: a name unique across splits and an aligned RGB crop (128, 128, 3)."""

    subject: str
    crop: np.ndarray
    source: str


def _package_file(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(f"package {package!r} is not installed (its photos are attack sources)")
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


def _aligned_faces(image_rgb: np.ndarray) -> list[np.ndarray]:
    """Aligned crops of every face the pipeline finds with 5 landmarks, left to right."""
    from tools.faces import FaceOptions, analyze_image

    faces = analyze_image(image_rgb, FaceOptions(mesh=True, pose=False, embeddings=False))
    return [align_face(image_rgb, f.landmarks5) for f in faces if f.landmarks5 is not None]


def _one_face(image_rgb: np.ndarray, name: str) -> np.ndarray:
    crops = _aligned_faces(image_rgb)
    if not crops:
        raise NoFaceError(f"no face found in the source photo {name}")
    return crops[0]


def _lfw_crop(image: np.ndarray) -> np.ndarray:
    """An LFW-subset crop (25, 25) grey-levels in [0, 1]... the subset is RGB-less, so it stays grey in 3 channels.

    The 25 px crops are tighter than the aligned template; they are padded by edge reflection to the template's
    context and upsampled (their blur is shared by the live sample and every attack made from it).
    """
    grey = np.clip(np.asarray(image) * 255.0, 0, 255).astype(np.uint8)
    pad = 4
    padded = cv2.copyMakeBorder(grey, pad, pad, pad, pad, cv2.BORDER_REFLECT)
    big = cv2.resize(padded, (ALIGNED_SIZE_PX, ALIGNED_SIZE_PX), interpolation=cv2.INTER_CUBIC)
    return np.repeat(big[..., None], 3, axis=2)


@lru_cache(maxsize=1)
def photo_identities() -> tuple[Identity, ...]:
    """The ten real people in full-colour photos, each as one aligned crop."""
    from PIL import Image
    from skimage import data

    out: list[Identity] = [Identity("astronaut", _one_face(np.asarray(data.astronaut()), "astronaut"), "skimage")]
    hopper = np.asarray(
        Image.open(_package_file("matplotlib", "mpl-data", "sample_data", "grace_hopper.jpg")).convert("RGB")
    )
    out.append(Identity("grace_hopper", _one_face(hopper, "grace_hopper.jpg"), "matplotlib"))
    group = np.asarray(Image.open(_package_file("insightface", "data", "images", "t1.jpg")).convert("RGB"))
    for index, crop in enumerate(_aligned_faces(group)):
        out.append(Identity(f"t1_person{index}", crop, "insightface t1.jpg"))
    hanks = np.asarray(Image.open(_package_file("insightface", "data", "images", "Tom_Hanks_54745.png")).convert("RGB"))
    padded = cv2.copyMakeBorder(hanks, 56, 56, 56, 56, cv2.BORDER_REFLECT)  # it is a tight 112 px ArcFace chip
    out.append(Identity("tom_hanks", _one_face(padded, "Tom_Hanks_54745.png"), "insightface"))
    return tuple(out)


@lru_cache(maxsize=1)
def lfw_identities() -> tuple[Identity, ...]:
    """The 100 LFW-subset face crops (grey), each as its own identity."""
    from skimage import data

    images = np.asarray(data.lfw_subset())[:100]
    return tuple(
        Identity(f"lfw{index:03d}", _lfw_crop(image), "skimage lfw_subset") for index, image in enumerate(images)
    )


# Which photo identities go where; LFW crops split 60 / 20 / 20 by index.
PHOTO_SPLITS: dict[str, tuple[str, ...]] = {
    "train": ("astronaut", "grace_hopper", "t1_person0", "t1_person1", "t1_person2"),
    "val": ("t1_person3",),
    "test": ("t1_person4", "t1_person5", "tom_hanks"),
}
LFW_SPLITS: dict[str, range] = {"train": range(0, 60), "val": range(60, 80), "test": range(80, 100)}


def split_identities(split: str, lfw: bool = True) -> list[Identity]:
    """The identities of ``split`` (train | val | test); disjoint across splits by construction."""
    if split not in PHOTO_SPLITS:
        raise ValueError(f"unknown split {split!r}")
    photos = {identity.subject: identity for identity in photo_identities()}
    out = [photos[name] for name in PHOTO_SPLITS[split] if name in photos]
    if lfw:
        crops = lfw_identities()
        out.extend(crops[index] for index in LFW_SPLITS[split])
    return out

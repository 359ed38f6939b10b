"""Anti-spoofing data as a folder layout, read and written the same way for real datasets and synthesized ones.

The layout (documented in ``docs/attack.md``)::

    DATA_DIR/
      train/ val/ test/                     splits; subjects (people) must not repeat across splits
        live/ print/ replay/ mask/ digital/ one folder per class; any attack subset, live required
          <subject>/*.png|*.jpg             one folder per person

An image is taken as a face crop when it is square-ish and at most 256 px; anything else is a frame whose largest
face is found and aligned (frames without a face are skipped and counted). Every crop is resized to the model's
input size.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from tools.attack.crops import align_face
from tools.attack.sources import split_identities
from tools.attack.synthesis import HELDOUT_SETTINGS, TRAIN_SETTINGS, SynthesisSettings, synthesize
from tools.attack.types import CLASSES, LIVE
from tools.errors import ConfigError, MediaError
from tools.storage import atomic_path

SPLITS = ("train", "val", "test")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
MAX_CROP_SIDE_PX = 256


@dataclass
class FaceSamples:
    """Face crops of one split: ``images`` (N, S, S, 3) uint8 RGB, with a class and a subject per image."""

    images: np.ndarray
    labels: list[str]
    subjects: list[str]
    skipped: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def only(self, kinds: set[str]) -> FaceSamples:
        """The samples whose class is in ``kinds``."""
        keep = [i for i, label in enumerate(self.labels) if label in kinds]
        return FaceSamples(
            self.images[keep], [self.labels[i] for i in keep], [self.subjects[i] for i in keep], self.skipped
        )


def _is_crop(image: np.ndarray) -> bool:
    h, w = image.shape[:2]
    return max(h, w) <= MAX_CROP_SIDE_PX and 0.8 <= w / h <= 1.25


def _face_crop(image: np.ndarray) -> np.ndarray | None:
    """The aligned crop of the largest face in a frame, or None."""
    from tools.faces import FaceOptions, analyze_image

    faces = [
        f
        for f in analyze_image(image, FaceOptions(mesh=True, pose=False, embeddings=False))
        if f.landmarks5 is not None
    ]
    if not faces:
        return None
    largest = max(faces, key=lambda f: f.box.area).landmarks5
    return None if largest is None else align_face(image, largest)


def read_split(data_dir: str | Path, split: str, size_px: int) -> FaceSamples:
    """Every face crop of ``split`` in ``data_dir``, resized to ``size_px``. Raises ``ConfigError`` on a bad layout."""
    from tools.media import load_image

    root = Path(data_dir) / split
    if not root.is_dir():
        raise ConfigError(f"{data_dir}: no {split}/ folder (expected train/, val/, test/; see docs/attack.md)")
    unknown = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name not in CLASSES)
    if unknown:
        raise ConfigError(f"{root}: unknown class folders {unknown}; classes are {list(CLASSES)}")
    images: list[np.ndarray] = []
    labels: list[str] = []
    subjects: list[str] = []
    skipped = 0
    for kind in CLASSES:
        for subject_dir in sorted(p for p in (root / kind).glob("*") if p.is_dir()):
            for file in sorted(f for f in subject_dir.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES):
                try:
                    image = load_image(file)
                except MediaError:
                    skipped += 1
                    continue
                crop = image if _is_crop(image) else _face_crop(image)
                if crop is None:
                    skipped += 1
                    continue
                images.append(cv2.resize(crop, (size_px, size_px), interpolation=cv2.INTER_AREA))
                labels.append(kind)
                subjects.append(subject_dir.name)
    if LIVE not in labels:
        raise ConfigError(f"{root}: no live/ images; every split needs live faces")
    if len(set(labels)) < 2:
        raise ConfigError(f"{root}: no attack images; every split needs at least one attack folder")
    stack = np.stack(images) if images else np.zeros((0, size_px, size_px, 3), np.uint8)
    return FaceSamples(stack, labels, subjects, skipped, dict(Counter(labels)))


def check_disjoint_subjects(splits: dict[str, FaceSamples]) -> None:
    """Raise ``ConfigError`` if a subject appears in two splits (the metrics would then measure memorisation)."""
    names = list(splits)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            shared = set(splits[a].subjects) & set(splits[b].subjects)
            if shared:
                raise ConfigError(
                    f"subjects {sorted(shared)[:5]} appear in both {a}/ and {b}/; splits must be per subject"
                )


def _write_png(path: Path, image: np.ndarray) -> None:
    ok, data = cv2.imencode(".png", image[..., ::-1])
    if not ok:
        raise MediaError(f"cannot encode {path}")
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.tobytes())


def write_synthetic_dataset(
    out_dir: str | Path,
    seed: int = 0,
    per_class: dict[str, int] | None = None,
    kinds: tuple[str, ...] = CLASSES,
    lfw: bool = True,
) -> dict[str, dict[str, int]]:
    """Synthesize the attack dataset from real photos into the folder layout; returns counts per split and class.

    ``per_class`` is the number of samples per identity and class in each split (default train 3, val 2, test 2).
    Train and val use ``TRAIN_SETTINGS``; test uses ``HELDOUT_SETTINGS`` (parameters never seen in training) and
    test identities. Donors of swaps and masks come from the same split, so no test person ever reaches training.
    """
    per_class = per_class or {"train": 3, "val": 2, "test": 2}
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    counts: dict[str, dict[str, int]] = {}
    settings_of: dict[str, SynthesisSettings] = {
        "train": TRAIN_SETTINGS,
        "val": TRAIN_SETTINGS,
        "test": HELDOUT_SETTINGS,
    }
    for split in SPLITS:
        people = split_identities(split, lfw=lfw)
        counts[split] = dict.fromkeys(kinds, 0)
        for index, person in enumerate(people):
            for kind in kinds:
                for n in range(per_class[split]):
                    # Another person of the same split (a split of one person swaps with itself).
                    others = max(len(people) - 1, 1)
                    donor = people[(index + 1 + int(rng.integers(others))) % len(people)]
                    crop = _jitter(person.crop, rng)
                    image = synthesize(kind, crop, donor.crop, rng, settings_of[split])
                    _write_png(out / split / kind / person.subject / f"{n:02d}.png", image)
                    counts[split][kind] += 1
    manifest = {
        "seed": seed,
        "per_class": per_class,
        "kinds": list(kinds),
        "lfw": lfw,
        "counts": counts,
        "settings": {"train": "TRAIN_SETTINGS", "val": "TRAIN_SETTINGS", "test": "HELDOUT_SETTINGS"},
    }
    with atomic_path(out / "synthesis.json") as tmp:
        tmp.write_text(json.dumps(manifest, indent=2))
    return counts


def _jitter(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A slightly different view of the same photo: small rotation, shift, scale, brightness, mirror."""
    side = crop.shape[0]
    matrix = cv2.getRotationMatrix2D((side / 2, side / 2), float(rng.uniform(-8, 8)), float(rng.uniform(0.93, 1.07)))
    matrix[:, 2] += rng.uniform(-0.04, 0.04, 2) * side
    moved = cv2.warpAffine(crop, matrix, (side, side), borderMode=cv2.BORDER_REFLECT)
    if rng.random() < 0.5:
        moved = moved[:, ::-1]
    gain = rng.uniform(0.85, 1.15)
    return np.clip(moved.astype(np.float32) * gain, 0, 255).astype(np.uint8)

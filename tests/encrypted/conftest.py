"""Real face embeddings and honestly generated distractors for the encrypted-gallery tests.

Real embeddings (128-d, the product's dlib-resnet embedder through ``tools.faces.analyze_image``): the astronaut,
the six people of insightface's t1.jpg and Tom Hanks, each in several versions (mirror, rescale, brightness,
rotation), and the 100 face crops of scikit-image's LFW subset (upscaled to 150 px, embedded on the whole crop).

Distractors are *not* real people. Three kinds, each named by its prefix:

- ``perturbed-*``: a real LFW embedding plus isotropic Gaussian noise (cosine ~0.90 to the original, i.e. about
  dlib's 0.905 same-person threshold: a close stranger), 10 noisy templates per stranger;
- ``gauss-*``: samples of a Gaussian fitted to the 111 real embeddings (mean and shrunk covariance), 10 templates
  per stranger;
- ``random-*``: uniformly random unit vectors (far from every face).

512-d "ArcFace-shaped" vectors are synthetic too (no ArcFace weights ship in any package): random unit identity
centers, templates and probes at cosine ~0.7 to their center, different people near-orthogonal.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest

from evals import samples
from tools.encrypted import EncryptedGallery, SearchOptions, create_keys, load_keys
from tools.encrypted.engine import GalleryEngine
from tools.encrypted.names import NameBook
from tools.media import load_image
from tools.recognition import PlainGallery

DLIB_THRESHOLD = 0.905  # tools.faces.dlib_resnet.embedder.DLIB_MATCH_THRESHOLD
ARCFACE_THRESHOLD = 0.32  # tools.faces.arcface_onnx default


@dataclass
class FaceSet:
    """Named real embeddings: ``templates`` to enroll, ``genuine`` probes of enrolled people, ``impostors``."""

    templates: dict[str, np.ndarray] = field(default_factory=dict)
    genuine: list[tuple[str, np.ndarray]] = field(default_factory=list)
    impostors: list[tuple[str, np.ndarray]] = field(default_factory=list)
    lfw: np.ndarray = field(default_factory=lambda: np.zeros((0, 128)))


def _embeddings(image: np.ndarray) -> list[tuple[float, float, np.ndarray]]:
    """(box center x, box area, unit embedding) of every face, left to right."""
    from tools.faces import analyze_image
    from tools.faces.pipeline import FaceOptions

    faces = analyze_image(np.ascontiguousarray(image), FaceOptions(mesh=False, pose=False, embeddings=True))
    found = [f for f in faces if f.embedding is not None]
    return [(f.box.center[0], f.box.area, np.asarray(f.embedding, dtype=np.float64)) for f in found]


def _one(image: np.ndarray) -> np.ndarray:
    """The embedding of the largest face (a portrait's person; small false detections are ignored)."""
    found = _embeddings(image)
    assert found, "no face found"
    return max(found, key=lambda item: item[1])[2]


def _lfw_embeddings() -> np.ndarray:
    from tools.faces.embedders import get_embedder
    from tools.faces.types import Box, Face

    embedder = get_embedder("dlib-resnet")
    images, is_face = samples.lfw_subset()
    out = []
    for image in images[is_face]:
        gray = (np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
        big = cv2.resize(np.stack([gray] * 3, axis=-1), (150, 150), interpolation=cv2.INTER_CUBIC)
        out.append(embedder.embed(np.ascontiguousarray(big), [Face(box=Box(0, 0, 149, 149), score=1.0)])[0])
    return np.asarray(out, dtype=np.float64)


def _variants(image: np.ndarray) -> dict[str, np.ndarray]:
    h, w = image.shape[:2]
    rotation = cv2.getRotationMatrix2D((w / 2, h / 2), 10.0, 1.0)
    return {
        "mirror": np.ascontiguousarray(image[:, ::-1]),
        "small": cv2.resize(image, (int(w * 0.8), int(h * 0.8)), interpolation=cv2.INTER_AREA),
        "dark": np.clip(image.astype(np.float32) * 0.7, 0, 255).astype(np.uint8),
        "rotated": cv2.warpAffine(image, rotation, (w, h), borderMode=cv2.BORDER_REFLECT),
    }


@pytest.fixture(scope="session")
def real_faces() -> FaceSet:
    """Enrolled: the astronaut, Tom Hanks and four people of t1.jpg; impostors: the other two of t1.jpg and ten
    LFW faces kept out of the gallery."""
    faces = FaceSet()
    astronaut = samples.astronaut()
    hanks = load_image(samples.tom_hanks_path())
    group = load_image(samples.group_photo_path())
    for name, image in (("Eileen Collins", astronaut), ("Tom Hanks", hanks)):
        variants = _variants(image)
        faces.templates[name] = np.stack([_one(image), _one(variants["small"])])
        faces.genuine += [(name, _one(variants[v])) for v in ("mirror", "dark", "rotated")]
    originals = _embeddings(group)
    mirrored = _embeddings(np.ascontiguousarray(group[:, ::-1]))
    width = group.shape[1]
    assert len(originals) == len(mirrored) == 6
    for index, (x, _, vector) in enumerate(originals):
        name = f"t1 person {index}"
        partner = min(mirrored, key=lambda item: abs((width - item[0]) - x))[2]
        if index < 4:
            faces.templates[name] = vector[None, :]
            faces.genuine.append((name, partner))
        else:
            faces.impostors += [(name, vector), (name + " mirrored", partner)]
    faces.lfw = _lfw_embeddings()
    faces.impostors += [(f"lfw-{i:03d}", faces.lfw[i]) for i in range(90, 100)]
    return faces


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


def dlib_distractors(faces: FaceSet, seed: int = 7) -> dict[str, np.ndarray]:
    """About 2,700 distractor templates of 390 strangers (see the module docstring)."""
    rng = np.random.default_rng(seed)
    real = np.vstack([faces.lfw, *faces.templates.values()])
    out: dict[str, np.ndarray] = {f"lfw-{i:03d}": faces.lfw[i][None, :] for i in range(90)}
    for i in range(150):
        base = faces.lfw[rng.integers(0, 90)]
        stranger = _unit(base + rng.normal(size=128) * 0.48 / np.sqrt(128))
        out[f"perturbed-{i:03d}"] = _unit(stranger + rng.normal(size=(10, 128)) * 0.012)
    mean, cov = real.mean(axis=0), np.cov(real.T)
    cov = 0.9 * cov + 0.1 * np.trace(cov) / 128 * np.eye(128)
    for i in range(80):
        center = _unit(rng.multivariate_normal(mean, cov))
        out[f"gauss-{i:03d}"] = _unit(center + rng.normal(size=(10, 128)) * 0.012)
    for i in range(300):
        out[f"random-{i:03d}"] = _unit(rng.normal(size=(1, 128)))
    return out


def arcface_people(count: int, templates: int, seed: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """``count`` synthetic 512-d people with ``templates`` templates each (cosine ~0.7 to their center), and the
    centers (count, 512) to draw probes from."""
    rng = np.random.default_rng(seed)
    centers = _unit(rng.normal(size=(count, 512)))
    people = {f"arc-{i:04d}": arcface_samples(centers[i], templates, rng) for i in range(count)}
    return people, centers


def arcface_samples(center: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` unit vectors at cosine ~0.7 to ``center`` (512-d)."""
    noise = _unit(rng.normal(size=(count, center.shape[0])))
    noise -= (noise @ center)[:, None] * center[None, :]
    return _unit(0.7 * center[None, :] + 0.714 * _unit(noise))


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One key set for the whole session (making keys takes a moment)."""
    folder = tmp_path_factory.mktemp("keys") / "keys"
    create_keys(folder)
    return folder


def new_gallery(keys_dir: Path, store: Path, options: SearchOptions | None = None, **layout: int) -> EncryptedGallery:
    """An in-process encrypted gallery on ``store``, with the session's keys and a fresh name map."""
    names_dir = store.parent / (store.stem + "-names")
    names_dir.mkdir(parents=True, exist_ok=True)
    keys = load_keys(keys_dir)
    return EncryptedGallery(keys, GalleryEngine(store), NameBook(names_dir), options, **layout)


def plain_gallery(path: Path, people: dict[str, np.ndarray], embedder: str) -> PlainGallery:
    gallery = PlainGallery(path)
    for name, rows in people.items():
        gallery.enroll(name, rows, embedder)
    return gallery


@pytest.fixture(autouse=True)
def _quiet_tenseal_logs() -> Iterator[None]:
    logging.getLogger("tools.encrypted").setLevel(logging.ERROR)
    yield

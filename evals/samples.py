"""Real photos that registry packages ship, used by tests, benchmarks, evaluations and the quick-start example.

No package ships a video of a real face, so clips are composed from these photos (``evals.clips``).
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

from tools.errors import ModelUnavailableError


def _package_dir(package: str) -> Path:
    # find_spec locates the package without importing it (insightface imports onnxruntime and more at import).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(f"package {package!r} is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def group_photo_path() -> Path:
    """insightface's ``t1.jpg``: six people in one photo."""
    return _package_dir("insightface") / "data" / "images" / "t1.jpg"


def tom_hanks_path() -> Path:
    """insightface's ``Tom_Hanks_54745.png``: one face."""
    return _package_dir("insightface") / "data" / "images" / "Tom_Hanks_54745.png"


@lru_cache(maxsize=1)
def astronaut() -> np.ndarray:
    """scikit-image's astronaut (Eileen Collins), RGB uint8 (512, 512, 3); she smiles."""
    from skimage import data

    return np.asarray(data.astronaut(), dtype=np.uint8)


@lru_cache(maxsize=1)
def lfw_subset() -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's LFW subset: (images (200, 25, 25) float in [0, 1], is_face (200,) bool).

    The first 100 are face crops, the last 100 are non-face patches.
    """
    from skimage import data

    images = np.asarray(data.lfw_subset())
    is_face = np.zeros(len(images), dtype=bool)
    is_face[:100] = True
    return images, is_face

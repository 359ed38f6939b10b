"""A user-supplied ONNX expression classifier (e.g. HSEmotion's ``enet_b0_8_best_afew.onnx``) from a local folder.

No such model ships in a package, so this backend only loads what the user puts in
``Settings.expression_onnx_dir`` (default ``<model_dir>/expression``): one ``.onnx`` file and, optionally, a
``model.json`` describing it::

    {"labels": ["Anger", "Contempt", "Disgust", "Fear", "Happiness", "Neutral", "Sadness", "Surprise"],
     "input_size_px": 224, "color": "rgb", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
     "output": "logits", "margin": 0.1}

``labels`` may also name a preset (``"hsemotion-8"``, ``"hsemotion-7"``, ``"fer"``). Without ``model.json`` the
file name must identify an HSEmotion model (``enet_b*_8_*`` or ``enet_b*_7*``), whose label orders are known.
Labels map to ``BASIC_EMOTIONS`` by name (``happy`` -> Happiness, ...); labels outside the basic seven (Contempt)
are dropped and the rest renormalised; extra outputs after the labels (valence/arousal heads) are ignored.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np

from tools.errors import ConfigError, ModelUnavailableError
from tools.expression.backends import check_face_sizes, single_onnx_file
from tools.expression.crops import face_crop, to_gray
from tools.expression.labels import BASIC_EMOTIONS
from tools.faces.types import Face
from tools.onnx_session import cpu_session

LABEL_PRESETS: Final[dict[str, tuple[str, ...]]] = {
    "hsemotion-8": ("Anger", "Contempt", "Disgust", "Fear", "Happiness", "Neutral", "Sadness", "Surprise"),
    "hsemotion-7": ("Anger", "Disgust", "Fear", "Happiness", "Neutral", "Sadness", "Surprise"),
    "fer": ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"),
}
_SYNONYMS: Final[dict[str, str]] = {
    "neutral": "Neutral",
    "anger": "Anger",
    "angry": "Anger",
    "disgust": "Disgust",
    "disgusted": "Disgust",
    "fear": "Fear",
    "fearful": "Fear",
    "afraid": "Fear",
    "happiness": "Happiness",
    "happy": "Happiness",
    "joy": "Happiness",
    "sadness": "Sadness",
    "sad": "Sadness",
    "surprise": "Surprise",
    "surprised": "Surprise",
}
IMAGENET_MEAN: Final[tuple[float, float, float]] = (0.485, 0.456, 0.406)
IMAGENET_STD: Final[tuple[float, float, float]] = (0.229, 0.224, 0.225)


def basic_label(label: str) -> str | None:
    """The ``BASIC_EMOTIONS`` name for a model's label, or None for labels outside the basic seven."""
    return _SYNONYMS.get(label.strip().lower())


def label_columns(labels: Sequence[str]) -> list[int]:
    """For each of ``BASIC_EMOTIONS``, the column of ``labels`` that holds it; ``ConfigError`` if one is missing."""
    mapped = [basic_label(label) for label in labels]
    columns = []
    for emotion in BASIC_EMOTIONS:
        hits = [i for i, name in enumerate(mapped) if name == emotion]
        if len(hits) != 1:
            raise ConfigError(
                f"expression model labels {list(labels)} must name each basic emotion exactly once; "
                f"{emotion} found {len(hits)} times"
            )
        columns.append(hits[0])
    return columns


def _hsemotion_preset(filename: str) -> str | None:
    if re.match(r"enet_b\d+_8", filename):
        return "hsemotion-8"
    if re.match(r"enet_b\d+_7", filename):
        return "hsemotion-7"
    return None


@dataclass(frozen=True)
class OnnxExpressionConfig:
    """How to feed and read an ONNX expression model (see the module docstring for ``model.json``)."""

    labels: tuple[str, ...]
    input_size_px: int | None = None
    color: Literal["rgb", "bgr", "gray"] = "rgb"
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    output: Literal["logits", "probabilities", "auto"] = "auto"
    margin: float = 0.1
    min_face_px: int = 32
    align: bool = True

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str) -> OnnxExpressionConfig:
        labels = data.get("labels")
        if isinstance(labels, str):
            if labels not in LABEL_PRESETS:
                raise ConfigError(f"{source}: unknown label preset {labels!r}; known: {', '.join(LABEL_PRESETS)}")
            labels = LABEL_PRESETS[labels]
        if not labels:
            raise ConfigError(f"{source}: 'labels' (a list or a preset name) is required")
        known = {f for f in cls.__dataclass_fields__ if f != "labels"}
        unknown = set(data) - known - {"labels"}
        if unknown:
            raise ConfigError(f"{source}: unknown keys {sorted(unknown)}; known: labels, {', '.join(sorted(known))}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k != "labels"}
        config = cls(labels=tuple(str(label) for label in labels), **values)
        if config.color not in ("rgb", "bgr", "gray") or config.output not in ("logits", "probabilities", "auto"):
            raise ConfigError(f"{source}: color must be rgb|bgr|gray and output logits|probabilities|auto")
        return config


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


class OnnxExpressionModel:
    """An ONNX image classifier over expression labels, run with onnxruntime on CPU.

    Input layout is NCHW (NHWC when the model's last input axis is 1 or 3 and its second is not), size from the
    model's input shape when fixed, else ``config.input_size_px`` (default 224).
    """

    def __init__(self, path: str | Path, config: OnnxExpressionConfig, providers: Sequence[str] | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelUnavailableError(f"{self.path}: ONNX expression model not found")
        self.config = config
        self.columns = label_columns(config.labels)
        self.session = cpu_session(self.path, "ONNX expression model", providers)
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        shape = list(model_input.shape)
        if len(shape) != 4:
            raise ConfigError(f"{self.path}: expected a 4-D image input, got shape {shape}")
        self.channels_last = isinstance(shape[3], int) and shape[3] in (1, 3) and shape[1] not in (1, 3)
        spatial = shape[1:3] if self.channels_last else shape[2:4]
        fixed = [s for s in spatial if isinstance(s, int) and s > 0]
        self.input_size_px = fixed[0] if fixed else (config.input_size_px or 224)
        self.fixed_batch = isinstance(shape[0], int) and shape[0] == 1
        self.name = f"onnx:{self.path.stem}"
        self.min_face_px = config.min_face_px
        self._lock = threading.Lock()

    @classmethod
    def from_folder(cls, folder: str | Path | None) -> OnnxExpressionModel:
        """Load the one ``.onnx`` in ``folder`` with its ``model.json`` (or an HSEmotion file name)."""
        if folder is None:
            raise ModelUnavailableError(
                "no ONNX expression model configured; set MIEN_EXPRESSION_ONNX_DIR (or MIEN_MODEL_DIR with an "
                "'expression' folder) to a folder holding the .onnx file"
            )
        folder = Path(folder)
        model_file = single_onnx_file(folder, "expression model")
        config_path = folder / "model.json"
        if config_path.is_file():
            try:
                data = json.loads(config_path.read_text())
            except json.JSONDecodeError as error:
                raise ConfigError(f"{config_path}: not valid JSON ({error})") from error
            config = OnnxExpressionConfig.from_mapping(data, str(config_path))
        else:
            preset = _hsemotion_preset(model_file.name)
            if preset is None:
                raise ConfigError(
                    f"{folder}: add a model.json with the model's 'labels' (its output order); only HSEmotion "
                    "file names (enet_b*_8_*, enet_b*_7*) are recognised without one"
                )
            config = OnnxExpressionConfig(labels=LABEL_PRESETS[preset])
        return cls(model_file, config)

    def preprocess(self, crops_rgb: np.ndarray) -> np.ndarray:
        """(n, S, S, 3) uint8 RGB crops -> the float32 batch the model takes (NCHW or NHWC)."""
        if self.config.color == "gray":
            pixels = to_gray(crops_rgb)[..., None] / 255.0
        else:
            pixels = np.asarray(crops_rgb, dtype=np.float32) / 255.0
            if self.config.color == "bgr":
                pixels = pixels[..., ::-1]
        mean = np.asarray(self.config.mean, dtype=np.float32)
        std = np.asarray(self.config.std, dtype=np.float32)
        batch = ((pixels - mean) / std).astype(np.float32)
        return np.ascontiguousarray(batch if self.channels_last else batch.transpose(0, 3, 1, 2))

    def predict_raw(self, batch: np.ndarray) -> np.ndarray:
        """Run the model on a preprocessed batch; (n, outputs) float64."""
        with self._lock:
            if self.fixed_batch:
                rows = [self.session.run(None, {self.input_name: batch[i : i + 1]})[0] for i in range(len(batch))]
                out = np.concatenate(rows, axis=0)
            else:
                out = self.session.run(None, {self.input_name: batch})[0]
        return np.asarray(out, dtype=np.float64).reshape(len(batch), -1)

    def to_basic(self, raw: np.ndarray) -> np.ndarray:
        """(n, outputs) model outputs -> (n, 7) probabilities in ``BASIC_EMOTIONS`` order."""
        scores = raw[:, : len(self.config.labels)]
        is_probability = bool(np.all(scores >= 0) and np.allclose(scores.sum(axis=1), 1.0, atol=1e-3))
        if self.config.output == "logits" or (self.config.output == "auto" and not is_probability):
            scores = _softmax(scores)
        basic = scores[:, self.columns]
        total = basic.sum(axis=1, keepdims=True)
        return np.asarray(basic / np.where(total > 0, total, 1.0))

    def predict(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """(n, 7) ``BASIC_EMOTIONS`` probabilities for ``faces`` in an RGB uint8 image (H, W, 3)."""
        check_face_sizes(faces, self.min_face_px, self.name)
        if not faces:
            return np.zeros((0, len(BASIC_EMOTIONS)))
        size = self.input_size_px
        crops = np.stack([face_crop(image_rgb, f, size, self.config.margin, self.config.align) for f in faces])
        return self.to_basic(self.predict_raw(self.preprocess(crops)))

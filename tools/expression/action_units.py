"""Action units (FACS) from the 478-point face mesh: honest geometric estimates, plus a slot for a trained model.

No trained AU model ships in any package, so the embedded backend measures the mesh. Each measure is a distance
or height in a face-centred frame, in units of the inter-ocular distance (IOD), so it does not depend on how large
the face is in the image:

* **Pose.** The mesh is 3-D (mediapipe's z is in the same pixel scale as x). The face frame's x axis runs from
  the image-left eye centre to the image-right eye centre, its y axis along the facial midline (forehead, nose
  bridge, nose tip: points that expressions barely move), orthogonalised against x, and z is their cross product.
  Measuring in this frame removes roll, and most of yaw and pitch, as far as the mesh's depth is right.
* **Reference.** An AU is a *change* of the face. Each AU's ``delta`` is a measure minus the same measure on a
  reference face: in videos, the same person's most neutral frames (``neutral_baseline``); in single images, a
  population reference (the median over the 99 meshed faces of scikit-image's LFW subset, computed by
  ``evals/reference/au_population_reference.py``). A single image therefore cannot tell a person's resting
  features (a naturally down-turned mouth) from an expression; the per-track baseline can.
* **Intensity.** ``intensity = clip(5 * signal / full_scale, 0, 5)``, where ``signal`` is the AU's delta in the
  direction of the action and ``full_scale`` a hand-set change (in IOD) for a strong action. These constants are
  heuristics, not calibrated against FACS-coded data; treat intensities as ordinal.

A trained AU model in ONNX (``OnnxActionUnits``) loads from a local folder instead when one is available.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np

from tools.errors import ConfigError, ModelUnavailableError
from tools.expression.backends import single_onnx_file
from tools.expression.crops import face_crop, to_gray
from tools.expression.types import ActionUnits, AUEstimate, AUReference
from tools.faces.types import Face
from tools.onnx_session import cpu_session

MESH_POINTS: Final[int] = 478

# Mesh indices, as (image-left side, image-right side) for a frontal face (the subject's right is image-left).
EYE_OUTER = (33, 263)
EYE_INNER = (133, 362)
UPPER_LID = ((159, 158, 160), (386, 385, 387))
LOWER_LID = ((145, 153, 144), (374, 380, 373))
IRIS_CENTER = (468, 473)
BROW_INNER = ((107, 55), (336, 285))
BROW_MID = ((105, 66, 52, 65), (334, 296, 282, 295))
BROW_OUTER = ((70, 63, 46, 53), (300, 293, 276, 283))
CHEEK = ((118, 101, 50), (347, 330, 280))
NOSE_WING = ((64, 98, 129), (294, 327, 358))
MOUTH_CORNER = (61, 291)
UPPER_LIP_TOP, UPPER_LIP_INNER, LOWER_LIP_INNER, LOWER_LIP_BOTTOM = 0, 13, 14, 17
SUBNASALE, CHIN = 2, 152
# Facial midline points that expressions barely move: forehead, glabella, nose bridge and dorsum, nose tip.
MIDLINE = (10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1)

MEASURES: Final[tuple[str, ...]] = (
    "brow_inner_height",  # eye-corner line to inner brow, + when raised
    "brow_mid_height",  # eye-corner line to mid brow
    "brow_outer_height",  # eye-corner line to outer brow
    "inner_brow_gap",  # horizontal distance between the inner brow ends
    "eye_opening",  # upper to lower eyelid
    "lower_lid_height",  # lower lid below the eye-corner line, + when lower
    "cheek_height",  # cheek points below the eye-corner line
    "nose_wing_height",  # nose wings below the eye-corner line
    "mouth_width",  # corner to corner
    "corner_height",  # mouth corners below the subnasale, + when lower
    "lip_gap",  # between the inner lip lines
    "lip_thickness",  # red of the upper lip + red of the lower lip
    "lower_lip_to_chin",  # lower lip bottom to chin
    "nose_to_chin",  # subnasale to chin
)

# Population reference: the median of each measure over the 99 faces of skimage's LFW subset that the mesh
# accepts (regenerate with evals/reference/au_population_reference.py).
POPULATION_REFERENCE: Final[dict[str, float]] = {
    "brow_inner_height": 0.1654,
    "brow_mid_height": 0.2396,
    "brow_outer_height": 0.2300,
    "inner_brow_gap": 0.4184,
    "eye_opening": 0.0974,
    "lower_lid_height": 0.0541,
    "cheek_height": 0.3943,
    "nose_wing_height": 0.6700,
    "mouth_width": 0.7834,
    "corner_height": 0.2567,
    "lip_gap": 0.0372,
    "lip_thickness": 0.1876,
    "lower_lip_to_chin": 0.4191,
    "nose_to_chin": 0.9189,
}


@dataclass(frozen=True)
class AURule:
    """How one AU is read from measure deltas: ``signal = sum(weight * delta[measure])``; ratio rules use
    ``1 - value / reference`` of one measure instead (eye closure)."""

    au: str
    name: str
    terms: tuple[tuple[str, float], ...]
    full_scale: float
    mode: Literal["delta", "closure", "absolute"] = "delta"


AU_RULES: Final[tuple[AURule, ...]] = (
    AURule("AU1", "inner brow raiser", (("brow_inner_height", 1.0),), 0.12),
    AURule("AU2", "outer brow raiser", (("brow_outer_height", 1.0),), 0.12),
    AURule(
        "AU4", "brow lowerer", (("brow_inner_height", -0.5), ("brow_mid_height", -0.5), ("inner_brow_gap", -0.5)), 0.10
    ),
    AURule("AU5", "upper lid raiser", (("eye_opening", 1.0),), 0.10),
    AURule("AU6", "cheek raiser", (("cheek_height", -1.0),), 0.08),
    AURule("AU7", "lid tightener", (("lower_lid_height", -1.0),), 0.05),
    # A cheek raise (smile) lifts the nose wings too; half of it is discounted.
    AURule("AU9", "nose wrinkler", (("nose_wing_height", -1.0), ("cheek_height", 0.5)), 0.10),
    AURule("AU12", "lip corner puller", (("corner_height", -1.0), ("mouth_width", 0.3)), 0.25),
    AURule("AU15", "lip corner depressor", (("corner_height", 1.0), ("mouth_width", -0.3)), 0.10),
    AURule("AU17", "chin raiser", (("lower_lip_to_chin", -1.0),), 0.10),
    # Stretching widens the mouth without lifting the corners; a lift (a smile) counts against it.
    AURule("AU20", "lip stretcher", (("mouth_width", 1.0), ("corner_height", 2.0)), 0.15),
    AURule("AU23", "lip tightener", (("lip_thickness", -1.0),), 0.10),
    AURule("AU25", "lips part", (("lip_gap", 1.0),), 0.15, "absolute"),
    AURule("AU26", "jaw drop", (("nose_to_chin", 1.0),), 0.25),
    AURule("AU45", "blink (eyes closing)", (("eye_opening", 1.0),), 0.8, "closure"),
)
AU_NAMES: Final[tuple[str, ...]] = tuple(rule.au for rule in AU_RULES)
# Lips count as parted only above this inner-lip gap (IOD): the mesh's closed lips sit a few thousandths apart.
LIP_GAP_CLOSED: Final[float] = 0.02


@dataclass(frozen=True, eq=False)
class GeometricMeasures:
    """The ``MEASURES`` of one face, (k,) float64 in IOD units, and the IOD itself in pixels."""

    values: np.ndarray
    iod_px: float

    def __getitem__(self, name: str) -> float:
        return float(self.values[MEASURES.index(name)])

    def to_dict(self) -> dict[str, float]:
        return {name: round(float(v), 4) for name, v in zip(MEASURES, self.values, strict=True)}

    @classmethod
    def from_mapping(cls, values: dict[str, float], iod_px: float = 1.0) -> GeometricMeasures:
        return cls(np.array([values[name] for name in MEASURES], dtype=np.float64), iod_px)


POPULATION_MEASURES: Final[GeometricMeasures] = GeometricMeasures.from_mapping(POPULATION_REFERENCE)


def _mean(mesh: np.ndarray, indices: Sequence[int] | int) -> np.ndarray:
    idx = [indices] if isinstance(indices, int) else list(indices)
    return np.asarray(mesh[idx].mean(axis=0))


def face_frame(mesh: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(origin (3,), rotation (3, 3) whose rows are the face's x, y, z axes, IOD in pixels) of a (478, 3) mesh."""
    eye_a = (mesh[EYE_OUTER[0]] + mesh[EYE_INNER[0]]) / 2.0
    eye_b = (mesh[EYE_OUTER[1]] + mesh[EYE_INNER[1]]) / 2.0
    iod = float(np.linalg.norm(eye_b - eye_a))
    x_axis = (eye_b - eye_a) / max(iod, 1e-9)
    midline = mesh[list(MIDLINE)]
    centered = midline - midline.mean(axis=0)
    direction = np.linalg.svd(centered, full_matrices=False)[2][0]
    if float(np.dot(direction, mesh[MIDLINE[-1]] - mesh[MIDLINE[0]])) < 0:  # point from forehead to nose (down)
        direction = -direction
    y_axis = direction - np.dot(direction, x_axis) * x_axis
    y_axis /= max(float(np.linalg.norm(y_axis)), 1e-9)
    z_axis = np.cross(x_axis, y_axis)
    return (eye_a + eye_b) / 2.0, np.stack([x_axis, y_axis, z_axis]), iod


def frontalize(mesh: np.ndarray) -> tuple[np.ndarray, float]:
    """The mesh (478, 3) in the face frame, in IOD units (origin between the eyes, y down), and the IOD in px."""
    origin, rotation, iod = face_frame(mesh)
    return (mesh - origin) @ rotation.T / max(iod, 1e-9), iod


def check_mesh(mesh: np.ndarray | None) -> np.ndarray:
    """``mesh`` as a (478, 3) float64 array; ``ValueError`` naming the problem otherwise."""
    if mesh is None:
        raise ValueError("the face has no mesh; action units need the 478-point mediapipe mesh")
    array = np.asarray(mesh, dtype=np.float64)
    if array.shape != (MESH_POINTS, 3):
        raise ValueError(f"the mesh must have shape ({MESH_POINTS}, 3) (refined mediapipe mesh); got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("the mesh contains NaN or infinite coordinates")
    return array


def measure_face(mesh: np.ndarray) -> GeometricMeasures:
    """The ``MEASURES`` of one (478, 3) pixel mesh (x, y, z in pixels)."""
    points, iod = frontalize(check_mesh(mesh))
    y = points[:, 1]

    def side_mean(pairs: tuple[Sequence[int] | int, Sequence[int] | int], fn: Any) -> float:
        return float(np.mean([fn(pairs[0], 0), fn(pairs[1], 1)]))

    eye_line = [float(np.mean(y[[EYE_OUTER[s], EYE_INNER[s]]])) for s in (0, 1)]

    def height_above_eyes(group: tuple[Sequence[int], Sequence[int]]) -> float:
        return side_mean(group, lambda idx, s: eye_line[s] - float(y[list(idx)].mean()))

    def depth_below_eyes(group: tuple[Sequence[int], Sequence[int]]) -> float:
        return -height_above_eyes(group)

    eye_opening = side_mean(
        (0, 1),
        lambda _, s: float(np.linalg.norm(_mean(points, UPPER_LID[s])[:2] - _mean(points, LOWER_LID[s])[:2])),
    )
    corner_a, corner_b = points[MOUTH_CORNER[0]], points[MOUTH_CORNER[1]]
    values = {
        "brow_inner_height": height_above_eyes(BROW_INNER),
        "brow_mid_height": height_above_eyes(BROW_MID),
        "brow_outer_height": height_above_eyes(BROW_OUTER),
        "inner_brow_gap": float(abs(_mean(points, BROW_INNER[1])[0] - _mean(points, BROW_INNER[0])[0])),
        "eye_opening": eye_opening,
        "lower_lid_height": depth_below_eyes(LOWER_LID),
        "cheek_height": depth_below_eyes(CHEEK),
        "nose_wing_height": depth_below_eyes(NOSE_WING),
        "mouth_width": float(np.linalg.norm(corner_b - corner_a)),
        "corner_height": float((corner_a[1] + corner_b[1]) / 2.0 - y[SUBNASALE]),
        "lip_gap": float(max(0.0, y[LOWER_LIP_INNER] - y[UPPER_LIP_INNER])),
        "lip_thickness": float((y[UPPER_LIP_INNER] - y[UPPER_LIP_TOP]) + (y[LOWER_LIP_BOTTOM] - y[LOWER_LIP_INNER])),
        "lower_lip_to_chin": float(y[CHIN] - y[LOWER_LIP_BOTTOM]),
        "nose_to_chin": float(y[CHIN] - y[SUBNASALE]),
    }
    return GeometricMeasures.from_mapping(values, iod)


def action_units_from_measures(
    measures: GeometricMeasures,
    reference: GeometricMeasures | None = None,
    reference_kind: AUReference = "population",
) -> ActionUnits:
    """AU estimates from a face's measures relative to ``reference`` (default: the population reference)."""
    ref = reference if reference is not None else POPULATION_MEASURES
    delta = measures.values - ref.values
    units = []
    for rule in AU_RULES:
        if rule.mode == "closure":
            name = rule.terms[0][0]
            signal = 1.0 - measures[name] / max(ref[name], 1e-6)
        elif rule.mode == "absolute":
            name = rule.terms[0][0]
            signal = measures[name] - LIP_GAP_CLOSED
        else:
            signal = float(sum(weight * delta[MEASURES.index(name)] for name, weight in rule.terms))
        intensity = float(np.clip(5.0 * signal / rule.full_scale, 0.0, 5.0))
        units.append(AUEstimate(rule.au, rule.name, intensity, float(signal), "geometric-estimate"))
    return ActionUnits(tuple(units), "geometric-estimate", MeshGeometryAU.name, reference_kind)


def estimate_action_units(mesh: np.ndarray, reference: GeometricMeasures | None = None) -> ActionUnits:
    """Geometric AU estimates for one (478, 3) pixel mesh, relative to ``reference`` or the population."""
    kind: AUReference = "population" if reference is None else "track-neutral"
    return action_units_from_measures(measure_face(mesh), reference, kind)


def neutral_baseline(
    measures: Sequence[GeometricMeasures],
    neutral_probabilities: Sequence[float] | None = None,
    fraction: float = 0.25,
) -> GeometricMeasures:
    """A person's neutral face from their frames: the per-measure median over the most neutral frames.

    With ``neutral_probabilities`` (one per frame, from the expression model), the ``fraction`` of frames with the
    highest neutral probability (at least one) are used; without them, all frames (a person is taken to be
    neutral more often than not).
    """
    if not measures:
        raise ValueError("a neutral baseline needs at least one frame with a mesh")
    values = np.stack([m.values for m in measures])
    if neutral_probabilities is not None:
        scores = np.asarray(neutral_probabilities, dtype=np.float64)
        if scores.shape != (len(measures),):
            raise ValueError(f"need one neutral probability per frame ({len(measures)}); got {scores.shape}")
        keep = max(1, round(fraction * len(measures)))
        values = values[np.argsort(-scores, kind="stable")[:keep]]
    return GeometricMeasures(np.median(values, axis=0), float(np.median([m.iod_px for m in measures])))


class MeshGeometryAU:
    """The embedded AU backend: geometric estimates from ``Face.mesh`` relative to the population reference.

    Faces without a mesh get None. Videos re-reference these per track (``neutral_baseline``).
    """

    name = "mesh-geometry"
    kind = "geometric-estimate"

    def estimate(self, image_rgb: np.ndarray, faces: Sequence[Face]) -> list[ActionUnits | None]:
        return [None if face.mesh is None else estimate_action_units(face.mesh) for face in faces]


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

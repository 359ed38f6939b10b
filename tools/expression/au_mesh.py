"""Face-mesh geometry for action units: pose normalisation and the measures the AU rules read.

* **Pose.** ``align_to_frontal`` fits a similarity transform (rotation, scale, translation; Kabsch/Umeyama
  Procrustes) from the mesh's *rigid* points (forehead, nose bridge and tip, eye corners, temples: points that
  expressions barely move) onto a frontal template, the mean rigid points of the real neutral calibration faces
  (``tools.expression.au_calibration``). The whole mesh is then measured in the template's frame, in units of
  the template's inter-ocular distance (IOD), so measures do not depend on face size, position, roll, and as far
  as the mesh's depth is right, yaw and pitch. The fitted rotation also gives the head pose the reliability
  checks use.
* **Measures.** Each measure is a distance or a height in that frame (``MEASURES``).

``face_frame`` / ``frontalize`` (an eye-line and midline frame, no template) are the older pose normalisation,
kept for the before/after comparison in ``evals/bench/action_units.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

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
# The points the pose is fitted on: the midline, the eye corners, the temples and upper face outline.
RIGID_POINTS: Final[tuple[int, ...]] = (
    *MIDLINE, 33, 133, 362, 263, 127, 356, 234, 454, 21, 251, 54, 284, 103, 332, 67, 297, 109, 338,
)

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
    "corner_below_lip_centre",  # mouth corners below the centre of the inner lips, + when lower
)


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


@dataclass(frozen=True, eq=False)
class FrontalMesh:
    """A mesh aligned to the frontal template: ``points`` (478, 3) in template-IOD units (x right, y down, origin
    between the eyes), the face's IOD in pixels, and the head rotation the fit removed, in degrees, with the signs
    of ``tools.faces.types.HeadPose`` (yaw + towards the subject's left, pitch + up, roll + clockwise)."""

    points: np.ndarray
    iod_px: float
    yaw_deg: float
    pitch_deg: float
    roll_deg: float


def _mean(mesh: np.ndarray, indices: Sequence[int] | int) -> np.ndarray:
    idx = [indices] if isinstance(indices, int) else list(indices)
    return np.asarray(mesh[idx].mean(axis=0))


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


def interocular_px(mesh: np.ndarray) -> float:
    """Distance between the two eye centres (mean of each eye's corners), in the mesh's units."""
    eye_a = (mesh[EYE_OUTER[0]] + mesh[EYE_INNER[0]]) / 2.0
    eye_b = (mesh[EYE_OUTER[1]] + mesh[EYE_INNER[1]]) / 2.0
    return float(np.linalg.norm(eye_b - eye_a))


def face_frame(mesh: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(origin (3,), rotation (3, 3) whose rows are the face's x, y, z axes, IOD in pixels) of a (478, 3) mesh:
    x from eye centre to eye centre, y along the facial midline (orthogonalised), z their cross product."""
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
    """The mesh (478, 3) in its eye-line/midline face frame, in IOD units, and the IOD in px (no template)."""
    origin, rotation, iod = face_frame(mesh)
    return (mesh - origin) @ rotation.T / max(iod, 1e-9), iod


def procrustes(source: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """(scale s, rotation R (3, 3), translation t) minimising ``|s * source @ R.T + t - target|`` over (n, 3)
    point sets (Umeyama's similarity fit; R is a proper rotation, never a reflection)."""
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    a, b = source - mu_s, target - mu_t
    u, sigma, vt = np.linalg.svd(b.T @ a)
    d = np.eye(3)
    d[2, 2] = np.sign(np.linalg.det(u @ vt)) or 1.0
    rotation = u @ d @ vt
    scale = float(np.trace(np.diag(sigma) @ d) / max(float((a**2).sum()), 1e-12))
    return scale, rotation, mu_t - scale * mu_s @ rotation.T


def rotation_angles(rotation: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of the head rotation undone by ``rotation`` (face -> frontal template)."""
    head = rotation.T  # frontal template -> the face as seen
    yaw = float(np.degrees(np.arcsin(np.clip(head[0, 2], -1.0, 1.0))))
    pitch = float(np.degrees(np.arctan2(-head[1, 2], head[2, 2])))
    roll = float(np.degrees(np.arctan2(head[1, 0], head[0, 0])))
    return -yaw, -pitch, roll


def align_to_frontal(mesh: np.ndarray, template: np.ndarray | None = None) -> FrontalMesh:
    """The (478, 3) pixel mesh aligned onto ``template`` ((len(RIGID_POINTS), 3) frontal rigid points in IOD
    units; default: the calibration template) by a similarity fit on ``RIGID_POINTS``."""
    points = check_mesh(mesh)
    if template is None:
        from tools.expression.au_calibration import FRONTAL_TEMPLATE

        template = np.asarray(FRONTAL_TEMPLATE, dtype=np.float64)
    scale, rotation, translation = procrustes(points[list(RIGID_POINTS)], template)
    aligned = scale * points @ rotation.T + translation
    yaw, pitch, roll = rotation_angles(rotation)
    return FrontalMesh(aligned, interocular_px(points), yaw, pitch, roll)


def measure_points(points: np.ndarray, iod_px: float) -> GeometricMeasures:
    """The ``MEASURES`` of a (478, 3) mesh already in a frontal frame (x right, y down, IOD units)."""
    y = points[:, 1]

    def side_mean(pairs: tuple[Sequence[int] | int, Sequence[int] | int], fn: Any) -> float:
        return float(np.mean([fn(pairs[0], 0), fn(pairs[1], 1)]))

    eye_line = [float(np.mean(y[[EYE_OUTER[s], EYE_INNER[s]]])) for s in (0, 1)]

    def height_above_eyes(group: tuple[Sequence[int], Sequence[int]]) -> float:
        return side_mean(group, lambda idx, s: eye_line[s] - float(y[list(idx)].mean()))

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
        "lower_lid_height": -height_above_eyes(LOWER_LID),
        "cheek_height": -height_above_eyes(CHEEK),
        "nose_wing_height": -height_above_eyes(NOSE_WING),
        "mouth_width": float(np.linalg.norm(corner_b - corner_a)),
        "corner_height": float((corner_a[1] + corner_b[1]) / 2.0 - y[SUBNASALE]),
        "lip_gap": float(max(0.0, y[LOWER_LIP_INNER] - y[UPPER_LIP_INNER])),
        "lip_thickness": float((y[UPPER_LIP_INNER] - y[UPPER_LIP_TOP]) + (y[LOWER_LIP_BOTTOM] - y[LOWER_LIP_INNER])),
        "lower_lip_to_chin": float(y[CHIN] - y[LOWER_LIP_BOTTOM]),
        "nose_to_chin": float(y[CHIN] - y[SUBNASALE]),
        "corner_below_lip_centre": float(
            (corner_a[1] + corner_b[1]) / 2.0 - (y[UPPER_LIP_INNER] + y[LOWER_LIP_INNER]) / 2.0
        ),
    }
    return GeometricMeasures.from_mapping(values, iod_px)


def measure_face(mesh: np.ndarray) -> GeometricMeasures:
    """The ``MEASURES`` of one (478, 3) pixel mesh, after aligning it to the frontal template."""
    frontal = align_to_frontal(mesh)
    return measure_points(frontal.points, frontal.iod_px)


def measure_face_eye_frame(mesh: np.ndarray) -> GeometricMeasures:
    """The ``MEASURES`` in the older eye-line/midline frame (for the before/after comparison only)."""
    points, iod = frontalize(check_mesh(mesh))
    return measure_points(points, iod)

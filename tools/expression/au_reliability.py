"""When an action unit cannot be measured: a head turned too far, or the eyes or the lower face covered.

The mesh model always returns 478 points, even for a face behind sunglasses or a mask: it guesses the hidden
part from the rest. Measuring a guess would report an expression nobody saw, so each AU's face region is checked
first, and an AU whose region fails is reported as not measurable with the reason instead of a number.

* **Pose** (from the Procrustes fit of ``au_mesh.align_to_frontal``): beyond ``MAX_YAW_DEG`` of yaw the far
  half of the face is hidden and foreshortened; beyond ``MAX_PITCH_DEG`` of pitch the brows and mouth heights
  are foreshortened.
* **Cover** (from the pixels): the skin just around the eyes (lids, under-eye, between lid and brow) and around
  the mouth (philtrum, chin, beside the corners; not the lips or teeth) is compared in CIELAB colour with the
  face's own skin elsewhere (the skin just under the eyes and the glabella for the lower face: a mask reaches up
  the cheeks, a fringe can hide the forehead; forehead and lower cheeks for the eyes), so that neither reference
  sits under the occluder it tests. A region whose points mostly differ from
  that skin by more than ``COVER_DELTA_E`` is covered (dark lenses, a surgical or cloth mask, a scarf); for the
  mouth the lips must also look like that surround (a beard hides the chin's skin but not the lips).
  Heuristic: a hand in front of the face is skin-coloured and is not caught here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np

from tools.expression.au_mesh import FrontalMesh
from tools.expression.au_rules import FaceRegion
from tools.faces.types import HeadPose

MAX_YAW_DEG: Final[float] = 40.0
MAX_PITCH_DEG: Final[float] = 30.0
COVER_DELTA_E: Final[float] = 28.0  # CIELAB distance from the face's own skin beyond which a point is not skin
COVER_SHARE: Final[float] = 0.6  # a region is covered when at least this share of its points is not skin

EYE_SKIN: Final[tuple[int, ...]] = (
    22, 23, 24, 110, 25, 230, 231, 232, 228, 229, 27, 28, 29, 30, 56, 190,  # image-left eye surround
    252, 253, 254, 339, 255, 450, 451, 452, 448, 449, 257, 258, 259, 260, 286, 414,  # image-right
)
MOUTH_SKIN: Final[tuple[int, ...]] = (
    164, 167, 393, 165, 391, 92, 322, 57, 287, 43, 273, 204, 424, 202, 422, 194, 418, 32, 262, 200, 199, 175,
)
LIP_RED: Final[tuple[int, ...]] = (0, 11, 37, 267, 39, 269, 16, 17, 84, 314, 85, 315)
LIPS_DELTA_E: Final[float] = 15.0  # lips closer than this to the covered surround are covered too
FOREHEAD: Final[tuple[int, ...]] = (151, 9, 108, 337, 69, 299, 107, 336)
GLABELLA: Final[tuple[int, ...]] = (9, 8, 168)
UNDER_EYES: Final[tuple[int, ...]] = (230, 231, 232, 228, 229, 450, 451, 452, 448, 449)
LOWER_CHEEKS: Final[tuple[int, ...]] = (205, 425, 207, 427, 187, 411, 50, 280)


@dataclass(frozen=True)
class RegionCheck:
    """Whether one face region can be measured; ``reason`` says why not (None when it can)."""

    region: FaceRegion
    reason: str | None = None

    @property
    def measurable(self) -> bool:
        return self.reason is None


def pose_reason(frontal: FrontalMesh, pose: HeadPose | None = None) -> str | None:
    """Why no AU of this face can be measured from its pose, or None. ``pose`` (the face pipeline's head pose,
    relative to the camera) is preferred when given; else the rotation of the fit onto the template is used."""
    yaw, pitch = (pose.yaw_deg, pose.pitch_deg) if pose is not None else (frontal.yaw_deg, frontal.pitch_deg)
    if abs(yaw) > MAX_YAW_DEG:
        return f"head turned {abs(yaw):.0f} degrees sideways (AUs are measured up to {MAX_YAW_DEG:.0f})"
    if abs(pitch) > MAX_PITCH_DEG:
        return f"head tilted {abs(pitch):.0f} degrees up or down (AUs are measured up to {MAX_PITCH_DEG:.0f})"
    return None


def _lab_at(image_rgb: np.ndarray, mesh: np.ndarray, indices: tuple[int, ...], radius: int) -> np.ndarray:
    """(len(indices), 3) CIELAB colours (L 0-100) of small patches centred on mesh points; NaN off the image."""
    height, width = image_rgb.shape[:2]
    points = np.rint(mesh[list(indices), :2]).astype(np.int64)
    inside = (points[:, 0] >= 0) & (points[:, 0] < width) & (points[:, 1] >= 0) & (points[:, 1] < height)
    out = np.full((len(indices), 3), np.nan)
    if not inside.any():
        return out
    offsets = np.arange(-radius, radius + 1)
    xs = np.clip(points[inside, 0, None, None] + offsets[None, None, :], 0, width - 1)  # (m, 1, k)
    ys = np.clip(points[inside, 1, None, None] + offsets[None, :, None], 0, height - 1)  # (m, k, 1)
    colours = image_rgb[ys, xs].reshape(int(inside.sum()), -1, 3).mean(axis=1).astype(np.float32) / 255.0
    out[inside] = cv2.cvtColor(colours.reshape(-1, 1, 3), cv2.COLOR_RGB2LAB).reshape(-1, 3)
    return out


def cover_share(image_rgb: np.ndarray, mesh: np.ndarray, region: tuple[int, ...], skin: tuple[int, ...]) -> float:
    """The share (0-1) of ``region``'s points whose colour differs from the median ``skin`` colour by more than
    ``COVER_DELTA_E``; ``mesh`` is (478, 3) in the image's pixels."""
    iod = float(np.linalg.norm(mesh[[362, 263]].mean(axis=0)[:2] - mesh[[33, 133]].mean(axis=0)[:2]))
    radius = max(1, round(0.03 * iod))
    reference = np.nanmedian(_lab_at(image_rgb, mesh, skin, radius), axis=0)
    colours = _lab_at(image_rgb, mesh, region, radius)
    valid = ~np.isnan(colours).any(axis=1)
    if not valid.any() or np.isnan(reference).any():
        return 1.0
    distance = np.linalg.norm(colours[valid] - reference, axis=1)
    return float(np.mean(distance > COVER_DELTA_E))


def lips_hidden(image_rgb: np.ndarray, mesh: np.ndarray) -> bool:
    """Whether the lips look like the skin around them that failed the skin test: under a mask both are the
    mask; with a beard or stubble the lips still stand out from the hair around them."""
    iod = float(np.linalg.norm(mesh[[362, 263]].mean(axis=0)[:2] - mesh[[33, 133]].mean(axis=0)[:2]))
    radius = max(1, round(0.02 * iod))
    lips = np.nanmedian(_lab_at(image_rgb, mesh, LIP_RED, radius), axis=0)
    around = np.nanmedian(_lab_at(image_rgb, mesh, MOUTH_SKIN, radius), axis=0)
    if np.isnan(lips).any() or np.isnan(around).any():
        return True
    return float(np.linalg.norm(lips - around)) < LIPS_DELTA_E


def region_checks(
    image_rgb: np.ndarray | None, mesh: np.ndarray, frontal: FrontalMesh, pose: HeadPose | None = None
) -> dict[FaceRegion, RegionCheck]:
    """The check of every face region for one face: pose first, then cover (only with the image)."""
    reason = pose_reason(frontal, pose)
    regions: tuple[FaceRegion, ...] = ("brows", "eyes", "lower face")
    if reason is not None:
        return {region: RegionCheck(region, reason) for region in regions}
    checks = {region: RegionCheck(region) for region in regions}
    if image_rgb is None:
        return checks
    eyes = cover_share(image_rgb, mesh, EYE_SKIN, FOREHEAD + LOWER_CHEEKS)
    if eyes >= COVER_SHARE:
        checks["eyes"] = RegionCheck("eyes", f"eyes covered ({eyes:.0%} of the skin around them is not skin-coloured:"
                                             " sunglasses or another occluder)")
    # Under sunglasses the under-eye skin is lens: the forehead stands in for it.
    mouth_reference = (FOREHEAD if not checks["eyes"].measurable else UNDER_EYES) + GLABELLA
    mouth = cover_share(image_rgb, mesh, MOUTH_SKIN, mouth_reference)
    if mouth >= COVER_SHARE and lips_hidden(image_rgb, mesh):
        checks["lower face"] = RegionCheck(
            "lower face", f"mouth covered ({mouth:.0%} of the skin around it is not skin-coloured: a mask or another"
                          " occluder)"
        )
    return checks

"""The 150x150 face chip dlib's ResNet reads, two ways.

``DlibChipper`` cuts it exactly as dlib does: ``shape_predictor_5`` on the face box, then ``dlib.get_face_chip(img,
shape, 150, 0.25)`` (bit-identical to what ``compute_face_descriptor`` feeds the net). ``warp_chips`` rebuilds the
same similarity warp in torch so that gradients reach the pixels of the original image (the surrogate for
cloaking). It follows dlib's ``extract_image_chips``: chip pixel (0, 0), (cols-1, 0), (0, rows-1) go to the
corners of the chip rectangle rotated about its centre, sampled bilinearly, and a chip much smaller than its
rectangle is sampled from dlib's 5-tap [1 4 6 4 1] image pyramid. It differs from dlib in that dlib rounds every
pyramid level and the chip to uint8 and blanks a pixel whose 2x2 neighbourhood leaves the image, so it matches
dlib's chip only approximately (``tests/faces/test_dlib_resnet.py`` measures how closely).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from tools.errors import MienError, NoFaceError
from tools.faces.dlib_models import SHAPE_5_FILE, dlib_model_path
from tools.faces.types import Box

CHIP_SIZE_PX = 150
CHIP_PADDING = 0.25

# dlib's mean positions of the shape_predictor_5 points in a chip of side 1 without padding
# (dlib/image_transforms/interpolation.h, get_face_chip_details): 0 and 1 the outer and inner corner of the eye on
# the image's right, 2 and 3 those of the other eye, 4 the base of the nose.
_SHAPE5_TEMPLATE = np.array(
    [
        [0.8595674595992, 0.2134981538014],
        [0.6460604764104, 0.2289674387677],
        [0.1205750620789, 0.2137274526848],
        [0.3340850613712, 0.2290642403242],
        [0.4901123135679, 0.6277975316475],
    ]
)


def box_to_dlib_rect(box: Box, width: int, height: int) -> Any:
    """A ``dlib.rectangle`` for ``box`` (x1/y1 exclusive, as detectors fill ``Face.box``).

    Raises ``NoFaceError`` when the box is empty or does not overlap the ``width`` x ``height`` image; boxes that
    reach past the border are kept (dlib's predictor handles them).
    """
    import dlib

    values = (box.x0, box.y0, box.x1, box.y1)
    if not all(math.isfinite(v) for v in values):
        raise NoFaceError(f"face box {box.to_list()} has non-finite coordinates")
    if box.width < 1.0 or box.height < 1.0:
        raise NoFaceError(f"face box {box.to_list()} is empty (under 1 pixel wide or high)")
    if box.x1 <= 0 or box.y1 <= 0 or box.x0 >= width or box.y0 >= height:
        raise NoFaceError(f"face box {box.to_list()} lies outside the {width}x{height} image")
    return dlib.rectangle(round(box.x0), round(box.y0), round(box.x1) - 1, round(box.y1) - 1)


def as_rgb_uint8(image_rgb: np.ndarray) -> np.ndarray:
    """The image as a C-contiguous (H, W, 3) uint8 array; raises ``MienError`` for anything else."""
    image = np.asarray(image_rgb)
    if image.ndim != 3 or image.shape[2] not in (3, 4) or image.shape[0] < 1 or image.shape[1] < 1:
        raise MienError(f"expected an RGB image of shape (H, W, 3), got shape {image.shape}")
    if image.dtype != np.uint8:
        raise MienError(f"expected an RGB uint8 image, got dtype {image.dtype}")
    return np.ascontiguousarray(image[..., :3])


class DlibChipper:
    """dlib's 5-point alignment: ``shapes`` from face boxes, ``chips`` (n, 150, 150, 3) uint8 from shapes."""

    def __init__(self, shape_predictor_path: str | None = None) -> None:
        import dlib

        self._dlib = dlib
        self._predictor = dlib.shape_predictor(shape_predictor_path or str(dlib_model_path(SHAPE_5_FILE)))
        self._lock = threading.Lock()  # dlib's predictor is not documented as thread-safe

    def shapes(self, image_rgb: np.ndarray, boxes: Sequence[Box]) -> list[Any]:
        """One ``dlib.full_object_detection`` (5 parts) per box of an RGB uint8 image (H, W, 3)."""
        image = as_rgb_uint8(image_rgb)
        height, width = image.shape[:2]
        rects = [box_to_dlib_rect(box, width, height) for box in boxes]
        with self._lock:
            return [self._predictor(image, rect) for rect in rects]

    def chips(self, image_rgb: np.ndarray, shapes: Sequence[Any]) -> np.ndarray:
        """(n, 150, 150, 3) uint8 chips, each cut on its own as ``compute_face_descriptor`` does.

        (``dlib.get_face_chips`` on all shapes at once shares one image pyramid between faces, which changes the
        chips of large faces slightly; one call per face keeps them identical to dlib's descriptor path.)
        """
        image = as_rgb_uint8(image_rgb)
        if not shapes:
            return np.zeros((0, CHIP_SIZE_PX, CHIP_SIZE_PX, 3), dtype=np.uint8)
        chips = [self._dlib.get_face_chip(image, shape, CHIP_SIZE_PX, CHIP_PADDING) for shape in shapes]
        return np.stack([np.asarray(chip, dtype=np.uint8) for chip in chips])


def shape_points(shape: Any) -> np.ndarray:
    """The parts of a ``dlib.full_object_detection`` as float64 (parts, 2) pixel coordinates."""
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)


@dataclass(frozen=True)
class ChipGeometry:
    """Where a chip sits in its image, as dlib's ``chip_details``: a rectangle rotated by ``angle_rad``.

    ``center_xy`` is the rectangle's centre in image pixels, ``side_px`` its side (dlib's ``cols * scale``, the
    image length of ``size_px`` chip pixels).
    """

    center_xy: tuple[float, float]
    side_px: float
    angle_rad: float
    size_px: int = CHIP_SIZE_PX

    def rect(self) -> tuple[float, float, float, float]:
        """dlib's unrotated chip rectangle (left, top, right, bottom) in image pixels (``centered_drect``)."""
        half = (self.side_px - 1.0) / 2.0
        cx, cy = self.center_xy
        return (cx - half, cy - half, cx + half, cy + half)

    def corners(self, levels: int = 0, origin_xy: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
        """Positions (3, 2) of chip pixels (0, 0), (cols-1, 0), (0, rows-1) in an image whose pixel (0, 0) is
        ``origin_xy`` of the original, halved ``levels`` times with dlib's ``rect_down`` (``p / 2 - (1.25, 0.75)``)."""
        left, top, right, bottom = self.rect()
        left, right = left - origin_xy[0], right - origin_xy[0]
        top, bottom = top - origin_xy[1], bottom - origin_xy[1]
        for _ in range(levels):
            left, top = left / 2.0 - 1.25, top / 2.0 - 0.75
            right, bottom = right / 2.0 - 1.25, bottom / 2.0 - 0.75
        mid_x, mid_y = (left + right) / 2.0, (top + bottom) / 2.0
        cos, sin = math.cos(self.angle_rad), math.sin(self.angle_rad)
        points = np.array([[left, top], [right, top], [left, bottom]], dtype=np.float64) - (mid_x, mid_y)
        return points @ np.array([[cos, sin], [-sin, cos]]) + (mid_x, mid_y)

    def pyramid_crop(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The integer region (left, top, right, bottom inclusive) dlib builds the pyramid over: the rotated
        rectangle grown by a border that doubles per level, clipped to the ``width`` x ``height`` image."""
        grow = 4.0 * 2 ** self.pyramid_levels() - 2.0  # 2, then grow * 2 + 2 per halving
        corners = self.corners()
        opposite = corners[1] + corners[2] - corners[0]
        points = np.vstack([corners, opposite])
        left, top = points.min(axis=0) - grow
        right, bottom = points.max(axis=0) + grow
        left, top = max(left, 0.0), max(top, 0.0)
        right, bottom = min(right, width - 1.0), min(bottom, height - 1.0)
        return (math.floor(left + 0.5), math.floor(top + 0.5), math.floor(right + 0.5), math.floor(bottom + 0.5))

    def pyramid_levels(self) -> int:
        """How many times dlib halves the image before sampling this chip (while the halved rectangle's area
        still exceeds the chip's)."""
        span = self.side_px - 1.0  # right - left; dlib's drectangle width is span + 1
        levels = 0
        while (span / 2.0 + 1.0) ** 2 > self.size_px * self.size_px:
            span /= 2.0
            levels += 1
        return levels


def _similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares similarity (Umeyama 1991) mapping ``source`` (n, 2) onto ``target`` (n, 2), as a (2, 3) matrix."""
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    s, t = source - mu_s, target - mu_t
    var_s = float((s**2).sum() / len(source))
    cov = t.T @ s / len(source)
    u, d, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(cov) < 0:
        sign[1, 1] = -1.0
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(d) @ sign) / var_s) if var_s > 0 else 1.0
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = mu_t - scale * rotation @ mu_s
    return matrix


def chip_geometry(points5: np.ndarray, size_px: int = CHIP_SIZE_PX, padding: float = CHIP_PADDING) -> ChipGeometry:
    """dlib's ``get_face_chip_details`` for 5 ``shape_predictor_5`` points (5, 2) in image pixels."""
    points = np.asarray(points5, dtype=np.float64)
    if points.shape != (5, 2):
        raise MienError(f"expected 5 shape_predictor_5 points (5, 2), got shape {points.shape}")
    template = (padding + _SHAPE5_TEMPLATE) / (2.0 * padding + 1.0) * size_px
    tform = _similarity(template, points)
    angle = math.atan2(tform[1, 0], tform[0, 0])
    scale = math.hypot(tform[0, 0], tform[1, 0])
    center = tform[:, :2] @ np.array([size_px / 2.0, size_px / 2.0]) + tform[:, 2]
    return ChipGeometry((float(center[0]), float(center[1])), size_px * scale, angle, size_px)


def _pyramid_down(image: torch.Tensor) -> torch.Tensor:
    """dlib's ``pyramid_down<2>`` on (1, 3, H, W) floats: a 5x5 [1 4 6 4 1]^2 / 256 filter at every other pixel."""
    taps = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0], dtype=image.dtype, device=image.device)
    kernel = (torch.outer(taps, taps) / 256.0).expand(3, 1, 5, 5)
    return F.conv2d(image, kernel, stride=2, groups=3)


def _sample(source: torch.Tensor, corners: np.ndarray, size: int) -> torch.Tensor:
    """Bilinear samples (1, 3, size, size) of ``source`` (1, 3, H, W) on the chip grid spanned by ``corners``.

    Like dlib, a chip pixel whose 2x2 neighbourhood is not wholly inside the image is black.
    """
    height, width = source.shape[-2:]
    corner = torch.as_tensor(corners, dtype=source.dtype, device=source.device)
    steps = torch.arange(size, dtype=source.dtype, device=source.device) / (size - 1)
    grid_v, grid_u = torch.meshgrid(steps, steps, indexing="ij")
    origin, along_x, along_y = corner[0], corner[1] - corner[0], corner[2] - corner[0]
    xy = origin + grid_u[..., None] * along_x + grid_v[..., None] * along_y  # (size, size, 2) in pixels
    x, y = xy[..., 0], xy[..., 1]
    inside = (x >= 0) & (y >= 0) & (torch.floor(x) + 1 < width) & (torch.floor(y) + 1 < height)
    normalised = torch.stack((2.0 * x / max(width - 1, 1) - 1.0, 2.0 * y / max(height - 1, 1) - 1.0), dim=-1)
    sampled = F.grid_sample(source, normalised[None], mode="bilinear", padding_mode="zeros", align_corners=True)
    return sampled * inside.to(source.dtype)


def warp_chips(image: torch.Tensor, geometries: Sequence[ChipGeometry]) -> torch.Tensor:
    """Differentiable chips (n, 3, size, size) float 0-255 from an image tensor (3, H, W) float 0-255 RGB.

    Gradients flow back to ``image``. Each chip is cut on its own, as ``compute_face_descriptor`` does.
    """
    if image.ndim != 3 or image.shape[0] != 3:
        raise MienError(f"expected an image tensor of shape (3, H, W), got {tuple(image.shape)}")
    height, width = image.shape[-2:]
    chips = []
    for geometry in geometries:
        levels = geometry.pyramid_levels()
        if levels == 0:
            chips.append(_sample(image[None], geometry.corners(), geometry.size_px))
            continue
        left, top, right, bottom = geometry.pyramid_crop(width, height)
        source = image[None, :, top : bottom + 1, left : right + 1]
        done = 0
        while done < levels and min(source.shape[-2:]) > 8:
            source = _pyramid_down(source)
            done += 1
        chips.append(_sample(source, geometry.corners(done, (float(left), float(top))), geometry.size_px))
    if not chips:
        return image.new_zeros((0, 3, CHIP_SIZE_PX, CHIP_SIZE_PX))
    return torch.cat(chips, dim=0)

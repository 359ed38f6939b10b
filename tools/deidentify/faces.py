"""Hiding faces in an RGB image: strong blur, solid mask or pixelation inside a soft-edged ellipse per face.

A detector box is tight around the eyes, nose and mouth; hair, ears, forehead and chin still identify a person, so
every region is grown by ``margin`` (axes of the ellipse relative to the box) and the ellipse is fully opaque out to
that size, then fades over a ``feather`` band so that the edit does not leave a hard seam. The blur is a Gaussian
whose sigma is a fixed fraction of the face size (half the box's side by default), as ``deface`` blurs CenterFace
boxes (methods.md, DEEMO). That removes the face's detail, but not the outline of a head: BlazeFace can still score
a blurred head near 0.5, so ``tools.deidentify.hiding`` searches the result again and hides what it still finds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import cv2
import numpy as np

from tools.errors import ConfigError, MediaError
from tools.faces.types import Box, Face

AnonymizeMode = Literal["blur", "mask", "pixelate"]
ANONYMIZE_MODES: tuple[str, ...] = get_args(AnonymizeMode)
RegionShape = Literal["ellipse", "box"]


@dataclass(frozen=True)
class FaceMaskStyle:
    """How face regions are hidden.

    ``shape``: an ellipse (the shape of a face) or a box (no head-shaped outline; used for re-hiding).
    ``margin``: the region's axes as a multiple of the detector box's sides (1.5: an ellipse covers the box).
    ``feather``: width of the soft edge outside the opaque region, as a fraction of its half-size.
    ``blur_sigma_fraction``: Gaussian sigma as a fraction of the face box's longer side.
    ``pixel_blocks``: how many blocks span the ellipse's width when pixelating.
    ``mask_rgb``: the fill colour of the solid mask; None fills with the region's mean colour (a flat patch that
    leaves no outline for a detector to see).
    """

    mode: AnonymizeMode = "blur"
    shape: RegionShape = "ellipse"
    margin: float = 1.5
    feather: float = 0.15
    blur_sigma_fraction: float = 0.5
    pixel_blocks: int = 6
    mask_rgb: tuple[int, int, int] | None = (0, 0, 0)

    def __post_init__(self) -> None:
        if self.mode not in ANONYMIZE_MODES:
            raise ConfigError(f"unknown anonymization mode {self.mode!r}; choose one of {', '.join(ANONYMIZE_MODES)}")
        if self.shape not in get_args(RegionShape):
            raise ConfigError(f"unknown region shape {self.shape!r}; choose ellipse or box")
        if self.margin < 1.0:
            raise ConfigError(f"margin {self.margin} would leave part of the face box visible; use 1.0 or more")
        if self.feather < 0.0 or self.blur_sigma_fraction <= 0.0 or self.pixel_blocks < 2:
            raise ConfigError("feather must be >= 0, blur_sigma_fraction > 0 and pixel_blocks >= 2")


def anonymize_faces(
    image_rgb: np.ndarray, regions: Sequence[Box | Face], style: FaceMaskStyle | None = None
) -> np.ndarray:
    """A copy of ``image_rgb`` (RGB uint8, (H, W, 3)) with every region hidden as ``style`` says.

    ``regions`` are detector boxes (or faces carrying them) in the image's pixels; they are grown by
    ``style.margin`` here, so pass the detector's boxes as they are. The input array is not modified.
    """
    style = style or FaceMaskStyle()
    image = _checked_image(image_rgb)
    out = image.copy()
    height, width = image.shape[:2]
    for region in regions:
        box = region.box if isinstance(region, Face) else region
        if box.width <= 0 or box.height <= 0:
            continue
        _hide_one(out, box, style, width, height)
    return out


def covered_region(box: Box, style: FaceMaskStyle, width: int, height: int) -> Box:
    """The rectangle an anonymized ``box`` touches, soft edge included, clipped to a ``width`` x ``height`` image."""
    return box.expanded(style.margin * (1.0 + style.feather)).clipped(width, height)


def _checked_image(image_rgb: np.ndarray) -> np.ndarray:
    image = np.asarray(image_rgb)
    if image.ndim != 3 or image.shape[2] < 3 or image.dtype != np.uint8:
        raise MediaError(f"expected an RGB uint8 image of shape (H, W, 3), got {image.dtype} {image.shape}")
    return np.ascontiguousarray(image[..., :3])


def _hide_one(out: np.ndarray, box: Box, style: FaceMaskStyle, width: int, height: int) -> None:
    """Hide one face in ``out`` in place."""
    area = covered_region(box, style, width, height)
    x0, y0 = int(np.floor(area.x0)), int(np.floor(area.y0))
    x1, y1 = int(np.ceil(area.x1)), int(np.ceil(area.y1))
    if x1 - x0 < 1 or y1 - y0 < 1:
        return
    patch = out[y0:y1, x0:x1]
    alpha = _region_alpha(box, style, x0, y0, x1, y1)
    if style.mode == "blur":
        hidden = _blurred(out, box, style, x0, y0, x1, y1)
    elif style.mode == "pixelate":
        hidden = _pixelated(patch, box, style)
    else:
        hidden = np.empty_like(patch)
        fill = patch.reshape(-1, 3).mean(axis=0) if style.mask_rgb is None else style.mask_rgb
        hidden[:] = np.asarray(fill, dtype=np.float64).round().astype(np.uint8)
    blended = patch.astype(np.float32) * (1.0 - alpha) + hidden.astype(np.float32) * alpha
    out[y0:y1, x0:x1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def _region_alpha(box: Box, style: FaceMaskStyle, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """Opacity (h, w, 1) float32: 1 inside the ellipse (or box), a smooth fall to 0 across the feather band."""
    cx, cy = box.center
    semi_x = max(box.width * style.margin / 2.0, 0.5)
    semi_y = max(box.height * style.margin / 2.0, 0.5)
    xs = np.abs(np.arange(x0, x1, dtype=np.float32) + 0.5 - cx) / semi_x
    ys = np.abs(np.arange(y0, y1, dtype=np.float32) + 0.5 - cy) / semi_y
    if style.shape == "ellipse":
        radius = np.sqrt(ys[:, None] ** 2 + xs[None, :] ** 2)
    else:
        radius = np.maximum(ys[:, None], xs[None, :])  # the box's own "radius": 1 on its edges
    if style.feather <= 0:
        return (radius <= 1.0).astype(np.float32)[..., None]
    t = np.clip((radius - 1.0) / style.feather, 0.0, 1.0)
    return (1.0 - t * t * (3.0 - 2.0 * t))[..., None]  # smoothstep from 1 at the ellipse to 0 at its soft edge


def _blurred(image: np.ndarray, box: Box, style: FaceMaskStyle, x0: int, y0: int, x1: int, y1: int) -> np.ndarray:
    """The region [y0:y1, x0:x1] blurred with sigma proportional to the face size, shape (y1-y0, x1-x0, 3).

    A Gaussian of sigma s equals a Gaussian of sigma s/k on the image shrunk k times (then enlarged), which keeps
    the cost flat however big the face is. Context around the region is blurred in too, so the edge blends.
    """
    height, width = image.shape[:2]
    sigma_px = max(style.blur_sigma_fraction * max(box.width, box.height), 1.0)
    pad = int(np.ceil(sigma_px))
    px0, py0 = max(x0 - pad, 0), max(y0 - pad, 0)
    px1, py1 = min(x1 + pad, width), min(y1 + pad, height)
    source = image[py0:py1, px0:px1]
    shrink = max(1.0, sigma_px / 3.0)
    small_size = (max(1, round(source.shape[1] / shrink)), max(1, round(source.shape[0] / shrink)))
    small = cv2.resize(source, small_size, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=sigma_px / shrink, borderType=cv2.BORDER_REFLECT)
    big = cv2.resize(small, (source.shape[1], source.shape[0]), interpolation=cv2.INTER_LINEAR)
    return big[y0 - py0 : y1 - py0, x0 - px0 : x1 - px0]


def _pixelated(patch: np.ndarray, box: Box, style: FaceMaskStyle) -> np.ndarray:
    """``patch`` as blocks whose side is the face ellipse's width over ``style.pixel_blocks``."""
    block_px = max(2.0, box.width * style.margin / style.pixel_blocks)
    small_size = (max(1, round(patch.shape[1] / block_px)), max(1, round(patch.shape[0] / block_px)))
    small = cv2.resize(patch, small_size, interpolation=cv2.INTER_AREA)
    return cv2.resize(small, (patch.shape[1], patch.shape[0]), interpolation=cv2.INTER_NEAREST)


def hidden_mask(height: int, width: int, regions: Sequence[Box], style: FaceMaskStyle) -> np.ndarray:
    """Pixels (bool, (height, width)) that hiding ``regions`` with ``style`` makes at least half opaque: where the
    picture is replaced, used to check that a labelled face was covered."""
    mask = np.zeros((height, width), dtype=bool)
    for box in regions:
        if box.width <= 0 or box.height <= 0:
            continue
        area = covered_region(box, style, width, height)
        x0, y0 = int(np.floor(area.x0)), int(np.floor(area.y0))
        x1, y1 = int(np.ceil(area.x1)), int(np.ceil(area.y1))
        if x1 - x0 < 1 or y1 - y0 < 1:
            continue
        mask[y0:y1, x0:x1] |= _region_alpha(box, style, x0, y0, x1, y1)[..., 0] >= 0.5
    return mask

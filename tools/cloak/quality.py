"""What a cloak costs and keeps: image similarity, whether the face's structure moved, and saving it faithfully."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from tools.faces.types import Face
from tools.storage import atomic_path


def image_quality(original: np.ndarray, changed: np.ndarray) -> tuple[float, float]:
    """(SSIM, PSNR in dB) of two RGB uint8 images (H, W, 3); PSNR is infinite for identical images."""
    from skimage.metrics import structural_similarity

    ssim = float(structural_similarity(original, changed, channel_axis=2, data_range=255))
    mse = float(np.mean((original.astype(np.float64) - changed.astype(np.float64)) ** 2))
    return ssim, (float("inf") if mse == 0 else 10.0 * float(np.log10(255.0**2 / mse)))


def mesh_shift_px(before: Sequence[Face], after: Sequence[Face]) -> list[float | None]:
    """For each face of ``before``, the mean movement in pixels of its 478 mesh points in ``after`` (the face there
    with the largest box overlap), or None when the face or its mesh is not found again."""
    shifts: list[float | None] = []
    for face in before:
        match = max(after, key=lambda other: face.box.iou(other.box), default=None)
        if match is None or face.mesh is None or match.mesh is None or face.box.iou(match.box) < 0.3:
            shifts.append(None)
            continue
        moved = np.linalg.norm(np.asarray(face.mesh)[:, :2] - np.asarray(match.mesh)[:, :2], axis=1)
        shifts.append(round(float(moved.mean()), 3))
    return shifts


def save_cloaked(path: str | Path, image_rgb: np.ndarray, grayscale: bool = False) -> Path:
    """Write atomically; JPEG at quality 95 (the default 75 would already erode the cloak), grey stays grey."""
    target = Path(path)
    picture = Image.fromarray(np.asarray(image_rgb, dtype=np.uint8))
    if grayscale:
        picture = picture.convert("L")
    suffix = target.suffix.lower()
    kind = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".bmp": "BMP"}.get(suffix, "PNG")
    with atomic_path(target) as tmp:
        picture.save(tmp, format=kind, **({"quality": 95} if kind in ("JPEG", "WEBP") else {}))
    return target

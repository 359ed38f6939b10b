"""Reading still images. The header is checked before pixels are decoded, so a lying header cannot OOM us."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from tools.errors import MediaError
from tools.media.checks import check_dimensions, check_file
from tools.settings import Settings, get_settings

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"}


def image_size(path: str | Path) -> tuple[int, int] | None:
    """(width, height) from the header if ``path`` is an image PIL recognises, else None. Decodes nothing."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                return int(img.width), int(img.height)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, ValueError):
        return None


def load_image(path: str | Path, settings: Settings | None = None) -> np.ndarray:
    """Decode an image file to RGB uint8 (H, W, 3), applying its EXIF orientation.

    Raises ``MediaError`` for missing, empty, non-image, truncated, too small or too large files.
    """
    settings = settings or get_settings()
    file = check_file(path, settings)
    size = image_size(file)
    if size is None:
        raise MediaError(f"{file}: not a readable image (unknown format or corrupt header)")
    check_dimensions(file, size[0], size[1], settings)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = None  # our own limit was applied above
            with Image.open(file) as img:
                img.load()
                rgb = ImageOps.exif_transpose(img).convert("RGB")
    except (OSError, ValueError, SyntaxError) as error:
        raise MediaError(f"{file}: the image is corrupt or truncated ({error})") from error
    return np.asarray(rgb, dtype=np.uint8).copy()


def save_image(path: str | Path, image_rgb: np.ndarray) -> Path:
    """Write an RGB uint8 image atomically (format from the suffix)."""
    from tools.storage import atomic_path

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        Image.fromarray(np.asarray(image_rgb, dtype=np.uint8)).save(tmp, format=_pil_format(target))
    return target


def _pil_format(path: Path) -> str:
    suffix = path.suffix.lower()
    return {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".bmp": "BMP", ".webp": "WEBP"}.get(suffix, "PNG")

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
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Our own pixel limit (``check_dimensions``, MIEN_MAX_IMAGE_PIXELS) is applied to every header before anything is
# decoded; PIL's own check would instead turn a bomb's header into "not an image", so that the limit never spoke.
Image.MAX_IMAGE_PIXELS = None


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
    check_png_chunks(file)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as img:
                img.load()
                rgb = ImageOps.exif_transpose(img).convert("RGB")
    except (OSError, ValueError, SyntaxError) as error:
        raise MediaError(f"{file}: the image is corrupt or truncated ({error})") from error
    return np.asarray(rgb, dtype=np.uint8).copy()


def check_png_chunks(path: Path) -> None:
    """Refuse a PNG whose chunk lengths run past the end of the file, before PIL reads them.

    PIL reads the rest of a chunk in one ``read(length)`` call: a damaged length field (up to 4 GiB) in a 30 kB
    file became a 4 GiB allocation (found by ``evals/fuzz``). Only the 8-byte chunk headers are read here.
    """
    with path.open("rb") as handle:
        if handle.read(8) != PNG_SIGNATURE:
            return
        size = path.stat().st_size
        position = 8
        while position + 8 <= size:
            handle.seek(position)
            header = handle.read(8)
            length, kind = int.from_bytes(header[:4], "big"), header[4:8]
            end = position + 12 + length  # length, type, data, CRC
            if length > 0x7FFFFFFF or end > size:
                name = f"{kind.decode('ascii')} chunk" if kind.isalpha() and kind.isascii() else "a chunk"
                raise MediaError(
                    f"{path}: the PNG is damaged or truncated: {name} claims {length:,} bytes but only "
                    f"{max(0, size - position - 12):,} remain in the file"
                )
            if kind == b"IEND":
                return
            position = end


def save_image(path: str | Path, image_rgb: np.ndarray) -> Path:
    """Write an RGB uint8 image atomically (format from the suffix)."""
    from tools.access import guard_write
    from tools.storage import atomic_path

    target = Path(path)
    guard_write(target)  # before the folder is made: inside an agent's tool run, only its output folders
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        Image.fromarray(np.asarray(image_rgb, dtype=np.uint8)).save(tmp, format=_pil_format(target))
    return target


def _pil_format(path: Path) -> str:
    suffix = path.suffix.lower()
    return {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".bmp": "BMP", ".webp": "WEBP"}.get(suffix, "PNG")

"""Early checks on media files, so that bad input fails with a message instead of deep inside a decoder."""

from __future__ import annotations

from pathlib import Path

from tools.access import guard_read
from tools.errors import MediaError, MediaTooLargeError
from tools.settings import Settings, get_settings


def check_file(path: str | Path, settings: Settings | None = None) -> Path:
    """Return ``path`` as a ``Path`` if it is a non-empty regular file within the size limit."""
    settings = settings or get_settings()
    file = Path(path)
    guard_read(file)  # inside an agent's tool run, only the media in play (tools.access)
    if not file.exists():
        raise MediaError(f"{file}: no such file")
    if not file.is_file():
        raise MediaError(f"{file}: not a regular file")
    size = file.stat().st_size
    if size == 0:
        raise MediaError(f"{file}: the file is empty (0 bytes)")
    if size > settings.max_file_bytes:
        raise MediaTooLargeError(
            f"{file}: {size / 1e6:.0f} MB is over the limit of {settings.max_file_bytes / 1e6:.0f} MB "
            "(MIEN_MAX_FILE_BYTES)"
        )
    return file


def check_dimensions(path: Path, width: int, height: int, settings: Settings | None = None) -> None:
    """Refuse images that are too small to hold a face or too large to decode safely."""
    settings = settings or get_settings()
    if width * height > settings.max_image_pixels:
        raise MediaTooLargeError(
            f"{path}: {width}x{height} pixels is over the limit of {settings.max_image_pixels:,} pixels "
            "(MIEN_MAX_IMAGE_PIXELS)"
        )
    if min(width, height) < settings.min_image_side_px:
        raise MediaError(
            f"{path}: {width}x{height} pixels is too small to contain a face "
            f"(need at least {settings.min_image_side_px} px per side)"
        )

"""Checks on where a de-identified file goes, made before any work so that a bad path fails fast."""

from __future__ import annotations

from pathlib import Path

from tools.errors import ConfigError

VIDEO_OUTPUT_SUFFIXES = (".mp4", ".m4v")
IMAGE_OUTPUT_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def checked_output(in_path: str | Path, out_path: str | Path, suffixes: tuple[str, ...], what: str) -> Path:
    """``out_path`` as a Path, if it is not the input and ends with one of ``suffixes`` (``what``: video/image).

    Writing over the input would destroy the only copy if anything went wrong; the suffix decides the format.
    """
    target = Path(out_path)
    if target.suffix.lower() not in suffixes:
        raise ConfigError(f"{target}: a de-identified {what} is written as {' or '.join(suffixes)}; change the name")
    if target.exists() and target.is_dir():
        raise ConfigError(f"{target}: is a folder; give a file name for the de-identified {what}")
    if target.resolve() == Path(in_path).resolve():
        raise ConfigError(f"{target}: the output must not overwrite the input; choose another file name")
    return target

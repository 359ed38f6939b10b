"""Bad media files made in code: each one a way real input goes wrong."""

from __future__ import annotations

import struct
import wave
import zlib
from pathlib import Path

import numpy as np


def zero_byte(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def text_as_jpg(path: Path) -> Path:
    path.write_text("this is not a picture, just words in a file named .jpg\n")
    return path


def tiny_image(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (1, 1), (128, 128, 128)).save(path)
    return path


def huge_header_png(path: Path, width: int = 50_000, height: int = 50_000) -> Path:
    """A PNG whose header claims ``width`` x ``height`` but holds almost no data (a decompression-bomb shape)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )
    path.write_bytes(body)
    return path


def truncated_copy(source: Path, path: Path, keep_fraction: float = 0.5) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep_fraction)])
    return path


def tone_wav(path: Path, seconds: float = 1.0, rate: int = 16_000) -> Path:
    """An audio-only file: a 440 Hz tone."""
    samples = (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * rate)) / rate) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(samples.tobytes())
    return path

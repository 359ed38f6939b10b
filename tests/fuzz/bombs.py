"""Hostile media made in code from real files: headers that lie about size, frame count, rate or codec.

Each builder starts from a real encode (``evals.fuzz.seeds``: the astronaut photo, espeak-ng speech) and patches
the header fields a decompression bomb or a damaged file would carry, so that only the lie is synthetic.
"""

from __future__ import annotations

import struct
from pathlib import Path

from tests.media import badfiles


def png_bomb(path: Path) -> Path:
    """A 60-byte PNG whose header claims 100000 x 100000 pixels (30 GB as RGB)."""
    return badfiles.huge_header_png(path, 100_000, 100_000)


def jpeg_bomb(seed_jpg: Path, path: Path) -> Path:
    """The real JPEG with its frame header (SOF0) claiming 65500 x 65500 pixels."""
    data = bytearray(seed_jpg.read_bytes())
    sof = data.find(b"\xff\xc0")
    assert sof > 0, "the seed JPEG has no baseline frame header"
    data[sof + 5 : sof + 9] = struct.pack(">HH", 65_500, 65_500)
    path.write_bytes(data)
    return path


def png_chunk_bomb(seed_png: Path, path: Path) -> Path:
    """The real PNG with its first IDAT chunk claiming 2 GiB (PIL would ``read()`` it in one call)."""
    data = bytearray(seed_png.read_bytes())
    idat = data.find(b"IDAT")
    data[idat - 4 : idat] = struct.pack(">I", 0x7FFFFF00)
    path.write_bytes(data)
    return path


def y4m_huge_frames(path: Path) -> Path:
    """A 1 kB raw-video file whose header says every frame is 12000 x 12000 (216 MB each)."""
    path.write_bytes(b"YUV4MPEG2 W12000 H12000 F25:1 Ip A1:1 C420jpeg\nFRAME\n" + b"\x00" * 1000)
    return path


def _avi_video_header(data: bytearray) -> int:
    """Offset of the video stream header's data (the ``strh`` chunk of type ``vids``)."""
    at = data.find(b"strh") + 8
    assert data[at : at + 4] == b"vids", "the seed AVI's first stream is not video"
    return at


def avi_announcing(seed_avi: Path, path: Path, frames: int, rate: int) -> Path:
    """The real AVI with its video stream header announcing ``frames`` frames at ``rate`` per second."""
    data = bytearray(seed_avi.read_bytes())
    at = _avi_video_header(data)
    data[at + 20 : at + 28] = struct.pack("<II", 1, rate)  # dwScale, dwRate
    data[at + 32 : at + 36] = struct.pack("<I", frames)  # dwLength
    path.write_bytes(data)
    return path


def avi_unknown_codec(seed_avi: Path, path: Path) -> Path:
    """The real AVI with its video codec tag replaced by one no decoder knows (FFmpeg gives no codec context)."""
    data = bytearray(seed_avi.read_bytes())
    at = _avi_video_header(data)
    data[at + 4 : at + 8] = b"ZZZZ"
    strf = data.find(b"strf") + 8
    data[strf + 16 : strf + 20] = b"ZZZZ"  # BITMAPINFOHEADER.biCompression
    path.write_bytes(data)
    return path


def wav_lying_rate(seed_wav: Path, path: Path, rate: int = 134_239_778) -> Path:
    """The real espeak-ng WAV with a sample rate from a damaged header (the fuzzer's 134 MHz)."""
    data = bytearray(seed_wav.read_bytes())
    fmt = data.find(b"fmt ") + 8
    data[fmt + 4 : fmt + 8] = struct.pack("<I", rate)
    path.write_bytes(data)
    return path

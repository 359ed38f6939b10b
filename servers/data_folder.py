"""The data folder a server reads media from and writes uploads and tool outputs to, and nowhere else.

Servers take paths and file references from strangers (an MCP client, a chat front-end). Every such path goes
through ``DataFolder``: relative references resolve inside the folder, absolute ones must land inside it after
symlinks are followed (``..`` and links out are refused with ``AccessDeniedError``), a reference to nothing is a
``NotFoundError``. Uploaded bytes are typed from their content (not their name), stored under a name derived from
their hash (safe, and the same bytes sent twice are one file), written atomically, and probed: a file Mien cannot
read is removed again and reported.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from pathlib import Path

from tools.errors import AccessDeniedError, MediaError, MediaTooLargeError, NotFoundError, UnsupportedMediaTypeError
from tools.media import MediaInfo, probe_media
from tools.settings import Settings
from tools.storage import atomic_write_bytes

UPLOADS = "uploads"
OUTPUTS = "outputs"


@dataclass(frozen=True)
class StoredMedia:
    """A media file in the data folder: where it is, what the client called it, and what probing found."""

    path: Path
    reference: str  # the path relative to the data folder, which clients may send back as a file reference
    info: MediaInfo


def sniff_suffix(head: bytes) -> str | None:
    """The file suffix the leading bytes say (images, the containers PyAV reads, audio), or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ".webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return ".wav"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return ".avi"
    if head.startswith(b"BM"):
        return ".bmp"
    if head[4:8] == b"ftyp":
        return ".m4a" if head[8:12] in (b"M4A ", b"M4B ") else ".mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return ".webm" if b"webm" in head[:64] else ".mkv"
    if head.startswith(b"OggS"):
        return ".ogg"
    if head.startswith(b"fLaC"):
        return ".flac"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return ".mp3"
    return None


def decode_base64(text: str, what: str) -> bytes:
    """Bytes of a base64 payload (a ``data:`` URL or bare base64), or a ``MediaError`` saying it is not base64."""
    payload = text.split(",", 1)[1] if text.startswith("data:") else text
    if text.startswith("data:") and ";base64" not in text.split(",", 1)[0]:
        raise MediaError(f"{what}: only base64 data: URLs are accepted")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as error:
        raise MediaError(f"{what}: the data is not valid base64 ({error})") from error


class DataFolder:
    """Paths inside ``root`` (created on first use), the one folder a server touches."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root).expanduser().resolve()
        self.max_bytes = max_bytes

    @classmethod
    def of(cls, settings: Settings) -> DataFolder:
        return cls(settings.resolved_data_dir, settings.server_max_upload_bytes)

    def inside(self, reference: str | Path) -> Path:
        """``reference`` as an absolute path that is inside the folder (links followed), else AccessDeniedError."""
        text = str(reference).strip()
        if not text:
            raise NotFoundError("an empty file reference names no file")
        if text.startswith("file://"):
            text = text.removeprefix("file://")
        if "\x00" in text:
            raise AccessDeniedError("a file reference may not contain NUL bytes")
        candidate = Path(text).expanduser()
        path = (candidate if candidate.is_absolute() else self.root / candidate).resolve()
        if path != self.root and self.root not in path.parents:
            raise AccessDeniedError(
                f"{text}: outside the data folder {self.root}; only files in it can be used (MIEN_DATA_DIR)"
            )
        return path

    def existing(self, reference: str | Path) -> Path:
        """The regular file ``reference`` names inside the folder, else NotFoundError / AccessDeniedError."""
        path = self.inside(reference)
        if not path.is_file():
            raise NotFoundError(f"{reference}: no such file in the data folder {self.root}")
        return path

    def media(self, reference: str | Path) -> StoredMedia:
        """A readable media file inside the folder (probed: unreadable files fail with their MediaError)."""
        path = self.existing(reference)
        return StoredMedia(path, self.relative(path), probe_media(path))

    def output(self, reference: str | None, default_name: str) -> Path:
        """Where a tool may write: ``reference`` inside the folder, or ``outputs/<default_name>``; parent made."""
        path = self.inside(reference) if reference else self.inside(Path(OUTPUTS) / Path(default_name).name)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()

    def store(self, data: bytes, what: str) -> StoredMedia:
        """Keep uploaded ``data`` as ``uploads/<sha256>.<type>``: size and type checked, written atomically, then
        probed; a file that probing rejects (an unreadable video) is removed and its error raised."""
        if len(data) > self.max_bytes:
            raise MediaTooLargeError(
                f"{what}: {len(data) / 1e6:.1f} MB is over the upload limit of {self.max_bytes / 1e6:.1f} MB "
                "(MIEN_SERVER_MAX_UPLOAD_BYTES)"
            )
        if not data:
            raise MediaError(f"{what}: the file is empty (0 bytes)")
        suffix = sniff_suffix(data[:64])
        if suffix is None:
            raise UnsupportedMediaTypeError(
                f"{what}: not an image, video or audio file (PNG, JPEG, WebP, BMP, MP4/MOV, MKV/WebM, AVI, WAV, "
                "MP3, FLAC, Ogg, judged from its content)"
            )
        folder = self.root / UPLOADS
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{hashlib.sha256(data).hexdigest()[:24]}{suffix}"
        fresh = not path.exists()
        if fresh:
            atomic_write_bytes(path, data)
        try:
            info = probe_media(path)
        except MediaError as error:
            if fresh:
                path.unlink(missing_ok=True)
            raise type(error)(f"{what}: {error}".replace(str(path), path.name)) from error
        return StoredMedia(path, self.relative(path), info)

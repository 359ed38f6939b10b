"""Uploaded media: streamed to disk under the data folder with generated names, checked by content, then probed.

A file's type is decided from its first bytes (``servers.data_folder.sniff_suffix``, as the MCP and agent servers
decide it), never from the name the browser sent, and then the
decoder must open it (``probe_media``); anything else is removed before it gets a name. Files are written to a
temporary name in the uploads folder, fsynced and renamed, so a half-written upload is never visible. The
browser's name is cut to a safe stem (letters, digits, ``._-``) so that answers name the file as the user knows it;
on disk an upload is ``<32 hex id>/<safe stem><extension of its real type>``, described by ``<32 hex id>.json``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from servers.data_folder import UPLOADS, sniff_suffix
from servers.web.protocol import MediaItem
from tools.errors import MediaError, MediaTooLargeError, MienError, NotFoundError, UnsupportedMediaTypeError
from tools.media import probe_media
from tools.settings import Settings
from tools.storage import atomic_write_bytes

MEDIA_ID = re.compile(r"^[0-9a-f]{32}$")
SNIFF_BYTES = 64


def safe_label(name: str | None) -> str:
    """The browser's file name reduced to a display label (no folders, no control characters, 120 chars)."""
    base = Path((name or "").replace("\\", "/")).name
    cleaned = "".join(ch for ch in base if ch.isprintable()).strip()
    return cleaned[:120] or "upload"


def safe_stem(name: str | None) -> str:
    """A file stem safe on any file system and in any shell: ``[A-Za-z0-9_-]`` runs joined by "_", 60 chars."""
    stem = Path(safe_label(name)).stem
    return "_".join(re.findall(r"[A-Za-z0-9_-]+", stem))[:60].strip("_-") or "upload"


class UploadStore:
    """Uploads in the servers' shared data folder (``MIEN_DATA_DIR``, default ``<home>/data``), under
    ``uploads/<id>/<stem><ext>`` plus ``uploads/<id>.json`` describing it; so an MCP or agent-API client may name a
    file uploaded on the page by that relative path."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.resolved_data_dir.expanduser().resolve() / UPLOADS

    async def save(self, chunks: AsyncIterator[bytes], filename: str | None, declared_bytes: int | None) -> MediaItem:
        """Store one upload streamed as ``chunks``; raise ``MediaTooLargeError`` past the size limit (even when
        the client lied about its length), ``UnsupportedMediaTypeError`` for other bytes, ``MediaError`` when the
        decoder cannot open it. Nothing is left on disk when it fails."""
        limit = self.settings.server_max_upload_bytes
        if declared_bytes is not None and declared_bytes > limit:
            raise MediaTooLargeError(
                f"the file is {declared_bytes} bytes; uploads are limited to {limit} bytes "
                "(MIEN_SERVER_MAX_UPLOAD_BYTES)"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".upload-", suffix=".tmp", dir=self.root)
        tmp = Path(tmp_name)
        try:
            head, size = await _write_limited(fd, chunks, limit)
            if size == 0:
                raise MediaError("the upload is empty")
            suffix = sniff_suffix(head)
            if suffix is None:
                raise UnsupportedMediaTypeError(
                    f"{safe_label(filename)} is not a video, image or audio file Mien reads "
                    "(judged from its content: PNG, JPEG, WebP, BMP, MP4/MOV, MKV/WebM, AVI, WAV, MP3, FLAC, Ogg, M4A)"
                )
            media_id = uuid.uuid4().hex
            target = self.root / media_id / f"{safe_stem(filename)}{suffix}"
            target.parent.mkdir()
            os.replace(tmp, target)
            try:
                info = await asyncio.to_thread(probe_media, target, self.settings)  # keep the event loop free
            except MienError as error:
                target.unlink(missing_ok=True)
                target.parent.rmdir()
                raise MediaError(f"{safe_label(filename)} cannot be read: {_without_path(str(error), target)}") \
                    from error
        finally:
            tmp.unlink(missing_ok=True)
        item = MediaItem(
            id=media_id,
            name=safe_label(filename),
            kind=info.kind,
            duration_s=round(info.duration_s, 3),
            width=info.width,
            height=info.height,
            has_audio=info.has_audio,
            size_bytes=size,
            url=f"/media/{media_id}",
        )
        atomic_write_bytes(self.root / f"{media_id}.json", item.model_dump_json().encode("utf-8"))
        return item

    def get(self, media_id: str) -> MediaItem:
        """The upload with this id; ``NotFoundError`` for an id never uploaded (or malformed)."""
        if not MEDIA_ID.match(media_id):
            raise NotFoundError(f"no uploaded file has the id {media_id[:40]!r}; upload it first")
        sidecar = self.root / f"{media_id}.json"
        try:
            return MediaItem.model_validate(json.loads(sidecar.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise NotFoundError(f"no uploaded file has the id {media_id!r}; upload it first") from None

    def path(self, media_id: str) -> Path:
        """The file on disk of an upload."""
        self.get(media_id)
        folder = self.root / media_id
        found = sorted(folder.iterdir()) if folder.is_dir() else []
        if not found:
            raise NotFoundError(f"the file of upload {media_id!r} is gone; upload it again")
        return found[0]


async def _write_limited(fd: int, chunks: AsyncIterator[bytes], limit: int) -> tuple[bytes, int]:
    """Write ``chunks`` to ``fd`` (closed after, fsynced), stopping with ``MediaTooLargeError`` past ``limit``."""
    head = b""
    size = 0
    with os.fdopen(fd, "wb") as handle:
        async for chunk in chunks:
            size += len(chunk)
            if size > limit:
                raise MediaTooLargeError(
                    f"the file is over the upload limit of {limit} bytes (MIEN_SERVER_MAX_UPLOAD_BYTES)"
                )
            if len(head) < SNIFF_BYTES:
                head += chunk[: SNIFF_BYTES - len(head)]
            handle.write(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    return head, size


def _without_path(message: str, path: Path) -> str:
    """A probe message without the server's own file path (the user knows the file by its name)."""
    return message.replace(f"{path}: ", "").replace(str(path), "the file")

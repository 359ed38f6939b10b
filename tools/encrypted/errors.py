"""Errors specific to the encrypted gallery (all ``MienError`` subclasses, mapped to HTTP by ``servers.gallery``)."""

from __future__ import annotations

from tools.errors import GalleryError


class StaleLayoutError(GalleryError):
    """The gallery changed since the client last read its layout; the client re-reads it and retries."""

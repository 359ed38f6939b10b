"""The gallery server's logic: one ``GalleryEngine`` on one SQLite file, and how its errors map to HTTP.

The engine does the work (and its own locking); this layer only owns its lifetime and the error → status table.
"""

from __future__ import annotations

import logging
from pathlib import Path

from servers.gallery.protocol import ErrorBody, ErrorResponse, HealthReport
from tools.encrypted.engine import GalleryEngine
from tools.encrypted.errors import StaleLayoutError
from tools.errors import ConfigError, CryptoError, GalleryError, MienError, UnknownIdentityError

log = logging.getLogger(__name__)

# Most specific first: the first matching class gives the status.
_STATUS: tuple[tuple[type[MienError], int], ...] = (
    (StaleLayoutError, 409),
    (UnknownIdentityError, 404),
    (CryptoError, 400),
    (GalleryError, 400),
    (ConfigError, 400),
)


class GalleryServing:
    """The gallery at ``store_path`` as served over HTTP."""

    def __init__(self, store_path: Path) -> None:
        self.store_path = Path(store_path)
        self.engine = GalleryEngine(self.store_path)
        info = self.engine.info()
        log.info(
            "serving encrypted gallery %s (%s templates, %d preselection ciphertexts in memory, no secret key)",
            self.store_path,
            info.templates,
            self.engine.ciphertexts_in_memory(),
        )

    def health(self) -> HealthReport:
        info = self.engine.info()
        return HealthReport(initialized=info.initialized, templates=info.templates)

    def close(self) -> None:
        self.engine.store.close()


def error_response(error: MienError) -> tuple[int, ErrorResponse]:
    """The HTTP status and body for a ``MienError`` raised while serving a request."""
    status = next((code for cls, code in _STATUS if isinstance(error, cls)), 500)
    kind = type(error).__name__ if status < 500 else "ServiceError"
    return status, ErrorResponse(error=ErrorBody(type=kind, message=str(error)))

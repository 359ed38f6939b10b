"""Encrypted identity search: a face gallery kept by a server that never sees a template, a probe or a score.

PFIP-style (``../shared/design/methods.md``): CKKS (TenSEAL), many templates packed per ciphertext, a new
template encrypted on its own into its own slots, and a cheap encrypted preselection on 64 (128-d) or 128
(512-d) projected coordinates before full-template scores are computed for the candidates only.
``docs/encrypted-search.md`` has the design, the measured costs and the leakage analysis; in short:

The server learns: the gallery's size, template dimension and embedder name, the layout (which random template
ids sit in which slots), when templates are enrolled or removed and in which batches (templates enrolled in one
request likely belong to one person), the time and size of every request, and, per search, which full-template
segments were scored (so which ~8-32 templates were candidates) and how many scoring rounds were needed. It
never learns a template, a probe, a score, a decision or a name: names stay in the key owner's ``names.sqlite``.
``SearchOptions.hiding`` hides the candidates: ``padded`` asks for a fixed number of segments per round with
random decoys (the server sees a fixed-size set; repeated searches for one person still intersect on the real
ones), ``all`` scores every segment (the server learns nothing about candidates; the cost is an exhaustive
search).

Entry points: ``create_keys(keys_dir)``, ``open_encrypted_gallery(keys_dir, server_url=..., store_path=...)``
(an ``IdentityGallery``), and ``GalleryEngine`` (the server side, served by ``mien serve gallery``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from tools.encrypted.client import EncryptedGallery, QueryStats, SearchOptions, SearchResult
from tools.encrypted.engine import GalleryEngine
from tools.encrypted.keys import ClientKeys, KeyInfo, create_keys, keys_exist, load_keys
from tools.encrypted.messages import GalleryService
from tools.encrypted.names import NameBook
from tools.encrypted.remote import RemoteGalleryService
from tools.errors import ConfigError, CryptoError
from tools.settings import get_settings

log = logging.getLogger(__name__)

__all__ = [
    "ClientKeys",
    "EncryptedGallery",
    "GalleryEngine",
    "KeyInfo",
    "QueryStats",
    "RemoteGalleryService",
    "SearchOptions",
    "SearchResult",
    "create_keys",
    "load_keys",
    "open_encrypted_gallery",
]


def default_search_options() -> SearchOptions:
    """Search options from the settings (``MIEN_ENCRYPTED_*``)."""
    settings = get_settings()
    return SearchOptions(
        candidates=settings.encrypted_candidates,
        exact=settings.encrypted_exact,
        hiding=settings.encrypted_hiding,
        pad_segments=settings.encrypted_pad_segments,
    )


def open_encrypted_gallery(
    keys_dir: Path,
    *,
    server_url: str | None,
    store_path: Path | None,
    options: SearchOptions | None = None,
) -> EncryptedGallery:
    """The encrypted gallery of the keys in ``keys_dir``: on the server at ``server_url``, or in this process on
    the SQLite file ``store_path`` (one of the two).

    Keys are created when ``keys_dir`` has none and the gallery does not exist yet; when the gallery exists, a
    missing key folder is a ``CryptoError`` (the gallery cannot be read without it).
    """
    if (server_url is None) == (store_path is None):
        raise ConfigError("the encrypted gallery needs either a server URL or a local store path (not both)")
    service: GalleryService
    if server_url is not None:
        service = RemoteGalleryService(server_url)
    else:
        assert store_path is not None
        service = GalleryEngine(Path(store_path))
    keys_dir = Path(keys_dir)
    if not keys_exist(keys_dir):
        info = service.info()
        if info.initialized:
            where = server_url or store_path
            raise CryptoError(
                f"no encryption keys in {keys_dir}, but the gallery at {where} exists (key {str(info.key_id)[:12]}…): "
                "it cannot be read without its keys — point --keys at the folder it was created with"
            )
        create_keys(keys_dir)
        log.warning("created new encryption keys in %s; back it up: the gallery is unreadable without it", keys_dir)
    keys = load_keys(keys_dir)
    return EncryptedGallery(keys, service, NameBook(keys_dir), options or default_search_options())

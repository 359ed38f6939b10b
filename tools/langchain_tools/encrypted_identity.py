"""Encrypted identity search as a tool: each person in a file named against the CKKS gallery on a gallery server.

The server (``mien serve gallery``, ``MIEN_ENCRYPTED_SERVER_URL``) holds only ciphertexts; this process holds the
secret key and the names (``MIEN_ENCRYPTED_KEYS_DIR``, default ``<home>/keys``), encrypts each track's embedding,
and decrypts the scores (``tools.encrypted``). Every answer says whether it is *certified* — identical to an
exhaustive plaintext search by the Cauchy-Schwarz bound — or only the preselection's top-k, which can miss a match.
Keys are never created here: a search with no keys is a ``CryptoError`` naming the folder.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.tools import BaseTool

from tools.errors import ConfigError, CryptoError
from tools.faces.pipeline import get_default_embedder
from tools.langchain_tools.base import MediaArgs, finding_tool
from tools.langchain_tools.faces import analysed_faces, face_versions, key_face, key_frame_marks, position_word
from tools.langchain_tools.recognition import identity_summary
from tools.langchain_tools.types import Finding
from tools.settings import Settings, get_settings

if TYPE_CHECKING:  # tenseal loads only when the tool runs
    from tools.encrypted import EncryptedGallery
    from tools.faces.protocols import Embedder
    from tools.faces.types import Track

TOOL_NAME = "identify_people_encrypted"
# What the certificate values of ``QueryStats.certified`` mean, in the words the answer uses.
CERTIFIED_WORDS = {
    "top1": "certified: the best score is the exhaustive search's, so is the decision",
    "reject": "certified: nobody enrolled reaches the threshold",
    "no": "not certified: only the preselected candidates were scored; a match ranked lower could be missed",
}


def keys_dir_of(settings: Settings) -> Path:
    """The key owner's folder: ``MIEN_ENCRYPTED_KEYS_DIR``, else ``<home>/keys`` (as ``mien gallery --encrypted``)."""
    return settings.encrypted_keys_dir or settings.home / "keys"


def encrypted_fingerprint(settings: Settings) -> str:
    """A hash of the server URL and the names this keys folder has enrolled: an enrollment changes cached answers.

    Read from the local ``names.sqlite`` only, so computing a cache key never needs the server."""
    from tools.encrypted.names import NAMES_FILE, NameBook

    keys_dir = keys_dir_of(settings)
    names: list[tuple[str, str]] = []
    if (keys_dir / NAMES_FILE).is_file():
        book = NameBook(keys_dir)
        try:
            names = sorted(book.all().items())
        finally:
            book.close()
    payload = repr((settings.encrypted_server_url, str(keys_dir), names))
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def identify_people_encrypted(media: str) -> Finding:
    """Each person (track) in ``media`` searched in the encrypted gallery: name or unknown, score, certificate."""
    from tools.encrypted import RemoteGalleryService, open_encrypted_gallery
    from tools.encrypted.keys import keys_exist

    settings = get_settings()
    url = settings.encrypted_server_url
    if not url:
        raise ConfigError(
            "no encrypted gallery server is configured: start one with `mien serve gallery` and set "
            "MIEN_ENCRYPTED_SERVER_URL (e.g. http://127.0.0.1:8765)"
        )
    keys_dir = keys_dir_of(settings)
    if not keys_exist(keys_dir):
        raise CryptoError(
            f"no encryption keys in {keys_dir}: the encrypted gallery can only be searched with the keys it was "
            "enrolled with (set MIEN_ENCRYPTED_KEYS_DIR to that folder)"
        )
    gallery = open_encrypted_gallery(keys_dir, server_url=url, store_path=None)
    try:
        video = analysed_faces(media, settings)
        backend = get_default_embedder(video.embedder or None)
        people = [_search_track(gallery, track, backend, video.media.width) for track in video.tracks]
        enrolled = len(gallery.names())
    finally:
        gallery.names_book.close()
        if isinstance(gallery.service, RemoteGalleryService):
            gallery.service.close()
    label, summary = identity_summary(people, video.media.kind, "in the encrypted gallery", with_scores=True)
    certified = sum(1 for p in people if p["certified"] != "no")
    summary += f"; {certified} of {len(people)} answers certified" if people else ""
    facts = {
        "people": people,
        "enrolled": enrolled,
        "threshold": round(float(backend.match_threshold), 3),
        "search": "CKKS-encrypted: the server never saw a template, probe, score or name",
    }
    return Finding(TOOL_NAME, media, label, summary, facts, key_frame_marks(video))


def _search_track(gallery: EncryptedGallery, track: Track, backend: Embedder, width: int) -> dict[str, Any]:
    """One track's encrypted search as the facts the model reads."""
    person: dict[str, Any] = {"person": track.track_id, "position": position_word(key_face(track), width)}
    if track.embedding is None:
        return {**person, "label": "unknown", "score": 0.0, "certified": "no", "note": "no embedding for this face"}
    identity = gallery.identify(track.embedding, backend.name, backend.match_threshold)
    stats = gallery.last_stats
    certified = str(stats.certified) if stats is not None else "no"
    return {
        **person,
        "label": identity.name or "unknown",
        "score": round(float(identity.score), 3),
        "certified": certified,
        "certificate": CERTIFIED_WORDS.get(certified, certified),
        "search_ms": round(1000 * float(stats.total_s), 1) if stats is not None else None,
    }


def build(settings: Settings) -> BaseTool:
    return finding_tool(
        name=TOOL_NAME,
        description="Search the encrypted (CKKS) face gallery on the configured gallery server for each person in "
        "an image or video: name or unknown, the similarity score, and whether the answer is certified.",
        run=identify_people_encrypted,
        args_schema=MediaArgs,
        versions=lambda: {**face_versions(get_settings()), "encrypted": encrypted_fingerprint(get_settings())},
        examples=[
            "Find this face in our encrypted gallery.",
            "Search the encrypted gallery for this person.",
            "Is this person in the encrypted gallery?",
            "Who is this, according to the encrypted gallery?",
            "Identify the people using the encrypted search.",
            "Run a privacy-preserving identity search on these faces.",
            "Look this face up on the gallery server.",
        ],
    )

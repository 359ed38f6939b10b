"""Damaged, truncated, forged and mixed-key ciphertexts give clear errors and leave the gallery as it was."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.encrypted.conftest import new_gallery
from tools.encrypted import EncryptedGallery, open_encrypted_gallery
from tools.encrypted.ckks import secret_context_bytes
from tools.encrypted.engine import GalleryEngine
from tools.encrypted.envelope import HEADER_BYTES, open_envelope, seal_envelope
from tools.encrypted.keys import ClientKeys, create_keys, load_keys
from tools.encrypted.messages import EnrollRequest, PreselectRequest
from tools.encrypted.names import NameBook
from tools.errors import CryptoError

EMBEDDER = "dlib-resnet"


class _Captured(Exception):
    pass


class _CaptureEnroll:
    """Forwards everything but ``enroll``, whose request it keeps instead of sending."""

    def __init__(self, inner: GalleryEngine) -> None:
        self.inner = inner
        self.request: EnrollRequest | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def enroll(self, request: EnrollRequest) -> None:
        self.request = request
        raise _Captured


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=-1, keepdims=True)


@pytest.fixture()
def setup(tmp_path: Path, keys_dir: Path) -> tuple[EncryptedGallery, GalleryEngine, np.ndarray]:
    rng = np.random.default_rng(4)
    people = _unit(rng.normal(size=(30, 128)))
    gallery = new_gallery(keys_dir, tmp_path / "server.sqlite")
    gallery.enroll_many([(f"p{i}", people[i : i + 1]) for i in range(30)], EMBEDDER)
    gallery.compact()
    assert isinstance(gallery.service, GalleryEngine)
    return gallery, gallery.service, people


def _snapshot(engine: GalleryEngine) -> tuple[int, int, str]:
    rows = sorted(engine.store.iter_ciphertexts(("full", "staging", "block", "projection")))
    digest = hashlib.sha256(b"".join(blob for *_, blob in rows)).hexdigest()
    return engine.info().revision, engine.info().templates, digest


def _captured_enrollment(gallery: EncryptedGallery, engine: GalleryEngine) -> EnrollRequest:
    capture = _CaptureEnroll(engine)
    gallery.service = capture  # type: ignore[assignment]
    with pytest.raises(_Captured):
        gallery.enroll("Newcomer", _unit(np.random.default_rng(9).normal(size=(1, 128))), EMBEDDER)
    gallery.service = engine
    assert capture.request is not None
    return capture.request


def _with_blob(request: EnrollRequest, blob: bytes) -> EnrollRequest:
    deltas = [request.deltas[0].model_copy(update={"blob": blob}), *request.deltas[1:]]
    return request.model_copy(update={"deltas": deltas})


def test_damaged_enrollments_are_refused_and_change_nothing(setup) -> None:  # type: ignore[no-untyped-def]
    gallery, engine, people = setup
    before = _snapshot(engine)
    request = _captured_enrollment(gallery, engine)
    good = request.deltas[0].blob
    flipped = bytearray(good)
    flipped[HEADER_BYTES + 1234] ^= 0x10
    payload = bytearray(open_envelope(good, gallery.keys.key_id))
    payload[2] ^= 0xFF  # SEAL's own header
    other = load_keys(_other_keys(engine.store.path.parent))
    attempts = {
        "corrupted or was tampered with": bytes(flipped),
        "truncated": good[: len(good) // 2],
        "damaged": seal_envelope(bytes(payload), gallery.keys.key_id),  # checksum recomputed: SEAL itself refuses
        "mixed up": other.encrypt(np.ones(4)),
    }
    for message, blob in attempts.items():
        with pytest.raises(CryptoError, match=message):
            engine.enroll(_with_blob(request, blob))
        assert _snapshot(engine) == before
        assert GalleryEngine(engine.store.path).info().revision == before[0]  # nothing half-written on disk either
    assert gallery.identify(people[3], EMBEDDER, 0.9).name == "p3"
    engine.enroll(request)  # the untampered request still goes through
    assert engine.info().templates == before[1] + 1


def test_a_probe_under_another_key_is_refused_by_the_server(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, engine, _ = setup
    other = load_keys(_other_keys(tmp_path))
    probe = [other.encrypt(np.ones(4096)) for _ in range(16)]
    with pytest.raises(CryptoError, match=r"probe was encrypted under key .* but this gallery uses key"):
        engine.preselect(PreselectRequest(key_id=other.key_id, block_probe=probe))


def test_a_client_with_other_keys_is_told_the_keys_are_mixed_up(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, engine, people = setup
    other = open_encrypted_gallery(_other_keys(tmp_path), server_url=None, store_path=engine.store.path)
    with pytest.raises(CryptoError, match=r"gallery was created with key .* but the keys in .* mixed up"):
        other.identify(people[0], EMBEDDER, 0.9)


def test_a_probe_forged_under_the_gallery_key_id_decrypts_to_an_error(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A secret key from another key set, labelled with this gallery's key id: the server cannot tell (CKKS has no
    integrity), the key owner's range check on decrypted scores can."""
    gallery, engine, people = setup
    other = load_keys(_other_keys(tmp_path))
    forged = ClientKeys(gallery.keys.keys_dir, gallery.keys.key_id, other.ops.context, gallery.keys.public_context)
    impostor = EncryptedGallery(forged, engine, NameBook(tmp_path / "names"))
    with pytest.raises(CryptoError, match=r"projection does not decrypt .* another key"):
        impostor.identify(people[0], EMBEDDER, 0.9)
    impostor._projection = gallery._get_projection()  # even holding the right basis, its scores come out as noise
    with pytest.raises(CryptoError, match=r"out of range.*not made with this key"):
        impostor.identify(people[0], EMBEDDER, 0.9)


def test_lost_keys_are_a_clear_error(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, engine, _ = setup
    with pytest.raises(CryptoError, match=r"no encryption keys in .* exists .* cannot be read without its keys"):
        open_encrypted_gallery(tmp_path / "lost", server_url=None, store_path=engine.store.path)


def test_a_server_refuses_a_stored_ciphertext_damaged_on_disk(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, engine, _ = setup
    copy = tmp_path / "copy.sqlite"
    engine.store.close()
    shutil.copy2(engine.store.path, copy)
    with sqlite3.connect(copy) as db:
        (blob,) = db.execute("SELECT blob FROM ciphertexts WHERE tier = 'block' AND part = 3").fetchone()
        damaged = bytearray(blob)
        damaged[-5] ^= 0x01
        db.execute("UPDATE ciphertexts SET blob = ? WHERE tier = 'block' AND part = 3", (bytes(damaged),))
    with pytest.raises(CryptoError, match="stored block segment 0 part 3 is corrupted"):
        GalleryEngine(copy)


def test_the_server_never_accepts_or_serves_a_secret_key(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gallery, engine, _ = setup
    with pytest.raises(CryptoError, match="cannot decrypt"):
        engine.ops.decrypt(engine.ops.load(open_envelope(gallery.keys.encrypt(np.ones(3)), engine.key_id), "fresh"))
    copy = tmp_path / "with-secret.sqlite"
    engine.store.close()
    shutil.copy2(engine.store.path, copy)
    with sqlite3.connect(copy) as db:
        db.execute("UPDATE context SET public_context = ?", (secret_context_bytes(gallery.keys.ops.context),))
    with pytest.raises(CryptoError, match="holds a secret key; refusing to serve it"):
        GalleryEngine(copy)


def _other_keys(folder: Path) -> Path:
    path = folder / "other-keys"
    if not path.exists():
        create_keys(path)
    return path

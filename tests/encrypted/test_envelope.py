"""Ciphertext envelopes: damage, truncation and key mix-ups are named before any arithmetic runs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from tools.encrypted.envelope import HEADER_BYTES, open_envelope, seal_envelope
from tools.encrypted.keys import load_keys
from tools.errors import CryptoError

OTHER_KEY = "0" * 32


@pytest.fixture(scope="module")
def blob(keys_dir: Path) -> bytes:
    return load_keys(keys_dir).encrypt(np.linspace(-1, 1, 128))


def test_a_sealed_ciphertext_opens_and_decrypts(keys_dir: Path, blob: bytes) -> None:
    values = load_keys(keys_dir).decrypt(blob, "fresh", "test")
    np.testing.assert_allclose(values[:128], np.linspace(-1, 1, 128), atol=1e-7)


def test_a_flipped_byte_fails_the_checksum(keys_dir: Path, blob: bytes) -> None:
    damaged = bytearray(blob)
    damaged[HEADER_BYTES + 500] ^= 0x01
    with pytest.raises(CryptoError, match="corrupted or was tampered with"):
        open_envelope(bytes(damaged), load_keys(keys_dir).key_id)


@pytest.mark.parametrize("keep", [10, HEADER_BYTES + 1000])
def test_truncation_is_named(keys_dir: Path, blob: bytes, keep: int) -> None:
    with pytest.raises(CryptoError, match="truncated"):
        open_envelope(blob[:keep], load_keys(keys_dir).key_id)


def test_a_ciphertext_of_another_key_is_named_as_a_mix_up(blob: bytes) -> None:
    with pytest.raises(CryptoError, match=r"encrypted under key .* but this gallery uses key 000000000000.*mixed up"):
        open_envelope(blob, OTHER_KEY)


def test_garbage_is_not_a_ciphertext(keys_dir: Path) -> None:
    with pytest.raises(CryptoError, match="not a Mien ciphertext"):
        open_envelope(b"x" * 200, load_keys(keys_dir).key_id)


def test_tampering_that_also_fixes_the_checksum_is_caught_by_seal(keys_dir: Path, blob: bytes) -> None:
    keys = load_keys(keys_dir)
    payload = bytearray(open_envelope(blob, keys.key_id))
    payload[2] ^= 0xFF  # SEAL's own header
    forged = seal_envelope(bytes(payload), keys.key_id)
    assert hashlib.sha256(bytes(payload)).digest() in forged
    with pytest.raises(CryptoError, match="damaged"):
        keys.open(forged, "fresh", "forged ciphertext")

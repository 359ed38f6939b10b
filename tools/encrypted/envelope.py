"""The wire and storage format of one ciphertext: a short header, then SEAL's serialization.

Header (63 bytes): ``MIENCT`` magic, format version (1 byte), the 16-byte id of the key that encrypted it, the
payload length (8 bytes, little endian) and the payload's SHA-256. The header turns the failures that CKKS itself
cannot see into clear errors before any arithmetic runs:

- a ciphertext made under another key decrypts to noise without complaint in CKKS; the key id names the mix-up;
- a truncated ciphertext is named as such (its length is known);
- a flipped byte fails the checksum (SEAL accepts many such flips as a valid but different ciphertext).

The checksum is not a signature: whoever can rewrite a ciphertext can also rewrite its checksum. Deliberate
forgery is caught later, and only with high probability, by the key owner's range check on decrypted scores.
"""

from __future__ import annotations

import hashlib
import struct

from tools.errors import CryptoError

MAGIC = b"MIENCT"
FORMAT_VERSION = 1
KEY_ID_BYTES = 16
_HEADER = struct.Struct(f"<6sB{KEY_ID_BYTES}sQ32s")
HEADER_BYTES = _HEADER.size


def key_id_bytes(key_id: str) -> bytes:
    """The 16 raw bytes of a hexadecimal key id."""
    raw = bytes.fromhex(key_id)
    if len(raw) != KEY_ID_BYTES:
        raise CryptoError(f"a key id has {KEY_ID_BYTES * 2} hexadecimal digits, got {key_id!r}")
    return raw


def seal_envelope(payload: bytes, key_id: str) -> bytes:
    """Wrap SEAL's bytes of one ciphertext encrypted under ``key_id``."""
    header = _HEADER.pack(MAGIC, FORMAT_VERSION, key_id_bytes(key_id), len(payload), hashlib.sha256(payload).digest())
    return header + payload


def open_envelope(blob: bytes, key_id: str, what: str = "ciphertext") -> bytes:
    """The SEAL payload of ``blob`` after checking format, key, length and checksum; ``CryptoError`` otherwise.

    ``what`` names the ciphertext in messages (e.g. "probe part 3").
    """
    if len(blob) < HEADER_BYTES:
        raise CryptoError(f"{what} is truncated: {len(blob)} bytes, shorter than its {HEADER_BYTES}-byte header")
    magic, version, blob_key, length, digest = _HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise CryptoError(f"{what} is not a Mien ciphertext (bad magic bytes)")
    if version != FORMAT_VERSION:
        raise CryptoError(f"{what} uses ciphertext format {version}; this Mien reads format {FORMAT_VERSION}")
    if blob_key != key_id_bytes(key_id):
        raise CryptoError(
            f"{what} was encrypted under key {blob_key.hex()[:12]}… but this gallery uses key {key_id[:12]}…: "
            "the keys are mixed up (use the key folder the gallery was created with)"
        )
    payload = blob[HEADER_BYTES:]
    if len(payload) < length:
        raise CryptoError(f"{what} is truncated: {len(payload)} of {length} payload bytes")
    if len(payload) > length:
        raise CryptoError(f"{what} has {len(payload) - length} unexpected trailing bytes")
    if hashlib.sha256(payload).digest() != digest:
        raise CryptoError(f"{what} is corrupted or was tampered with (checksum mismatch)")
    return payload


def envelope_key_id(blob: bytes) -> str | None:
    """The key id a blob claims, or None when it is not an envelope."""
    if len(blob) < HEADER_BYTES or blob[: len(MAGIC)] != MAGIC:
        return None
    return str(_HEADER.unpack_from(blob)[2].hex())

"""The key owner's keys: made once, kept in a folder only its owner can read, checked on every load.

Roles: the client (key owner) makes the CKKS context and never lets the secret key leave ``keys_dir``; the
server receives ``public-context.bin`` (parameters and relinearization keys, no secret key, no public key: the
context is symmetric, so only the owner can encrypt) and stores it beside the encrypted gallery.

Files, all mode 0o600 in a 0o700 folder:

- ``secret-context.bin``: the TenSEAL context with the secret key;
- ``public-context.bin``: what the server gets; its SHA-256 (first 16 bytes, hex) is the key id;
- ``keys.json``: format version, key id, creation time, and a check ciphertext encrypted under the secret key,
  so that a secret key from one key set next to the public half of another is caught at load time.

Losing the folder loses the gallery: nothing on the server can be decrypted without it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tools.encrypted.ckks import (
    COEFF_MOD_BIT_SIZES,
    POLY_MODULUS_DEGREE,
    SCALE_BITS,
    Ciphertext,
    CkksOps,
    Level,
    has_secret_key,
    load_context,
    new_secret_context,
    public_context_bytes,
    secret_context_bytes,
)
from tools.encrypted.envelope import open_envelope, seal_envelope
from tools.errors import CryptoError
from tools.storage import atomic_write_bytes

log = logging.getLogger(__name__)

KEYS_FORMAT_VERSION = 1
SECRET_FILE = "secret-context.bin"
PUBLIC_FILE = "public-context.bin"
INFO_FILE = "keys.json"
_CHECK_VALUES = np.linspace(-1.0, 1.0, 97)


def key_id_of(public_context: bytes) -> str:
    """The key id: the first 16 bytes of the public context's SHA-256, in hex."""
    return hashlib.sha256(public_context).hexdigest()[:32]


@dataclass(frozen=True)
class KeyInfo:
    """What ``create_keys`` made: where, which key id, when."""

    keys_dir: Path
    key_id: str
    created_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"keys_dir": str(self.keys_dir), "key_id": self.key_id, "created_s": round(self.created_s, 3)}


class ClientKeys:
    """The key owner's loaded keys: encrypts and decrypts envelopes (``tools.encrypted.envelope``)."""

    def __init__(self, keys_dir: Path, key_id: str, context: Any, public_context: bytes) -> None:
        self.keys_dir = keys_dir
        self.key_id = key_id
        self.public_context = public_context
        self.ops = CkksOps(context)

    def encrypt(self, values: np.ndarray) -> bytes:
        """One envelope holding up to 4,096 values (float64 (n,), zero-padded)."""
        return seal_envelope(self.ops.encrypt(values), self.key_id)

    def open(self, blob: bytes, level: Level, what: str) -> Ciphertext:
        """Check and parse an envelope made under this key."""
        return self.ops.load(open_envelope(blob, self.key_id, what), level)

    def decrypt(self, blob: bytes, level: Level, what: str) -> np.ndarray:
        """The 4,096 slot values (float64) of one envelope."""
        return self.ops.decrypt(self.open(blob, level, what))


def keys_exist(keys_dir: Path) -> bool:
    """Whether ``keys_dir`` holds a key set (possibly a damaged one)."""
    return any((Path(keys_dir) / name).exists() for name in (SECRET_FILE, PUBLIC_FILE, INFO_FILE))


def create_keys(keys_dir: Path, *, overwrite: bool = False) -> KeyInfo:
    """Make a new key set in ``keys_dir`` (created 0o700); refuses to replace an existing one unless ``overwrite``.

    Replacing keys makes every gallery encrypted under the old ones unreadable, hence the refusal.
    """
    keys_dir = Path(keys_dir)
    if keys_exist(keys_dir) and not overwrite:
        raise CryptoError(
            f"{keys_dir} already holds encryption keys; refusing to replace them (galleries encrypted under them "
            "would become unreadable)"
        )
    keys_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    context = new_secret_context()
    public = public_context_bytes(context)
    key_id = key_id_of(public)
    check = seal_envelope(CkksOps(context).encrypt(_CHECK_VALUES), key_id)
    created = time.time()
    info = {
        "format_version": KEYS_FORMAT_VERSION,
        "key_id": key_id,
        "created_s": created,
        "params": {
            "scheme": "CKKS",
            "poly_modulus_degree": POLY_MODULUS_DEGREE,
            "coeff_mod_bit_sizes": list(COEFF_MOD_BIT_SIZES),
            "scale_bits": SCALE_BITS,
            "encryption": "symmetric",
        },
        "check": base64.b64encode(check).decode("ascii"),
    }
    atomic_write_bytes(keys_dir / SECRET_FILE, secret_context_bytes(context), mode=0o600)
    atomic_write_bytes(keys_dir / PUBLIC_FILE, public, mode=0o600)
    atomic_write_bytes(keys_dir / INFO_FILE, json.dumps(info, indent=2).encode("utf-8"), mode=0o600)
    log.info("created encryption keys %s… in %s; back this folder up", key_id[:12], keys_dir)
    return KeyInfo(keys_dir, key_id, created)


def load_keys(keys_dir: Path) -> ClientKeys:
    """Load and check the key set in ``keys_dir``; every way it can be unusable raises ``CryptoError``."""
    keys_dir = Path(keys_dir)
    missing = [name for name in (SECRET_FILE, PUBLIC_FILE, INFO_FILE) if not (keys_dir / name).is_file()]
    if missing:
        raise CryptoError(
            f"no usable encryption keys in {keys_dir} (missing {', '.join(missing)}); without the secret key an "
            "encrypted gallery cannot be searched — restore the folder from a backup, or create new keys for a "
            "new gallery"
        )
    secret_path = keys_dir / SECRET_FILE
    mode = stat.S_IMODE(secret_path.stat().st_mode)
    if mode & 0o077:
        raise CryptoError(f"{secret_path} is readable by other users (mode {mode:#o}); run: chmod 600 {secret_path}")
    info = _read_info(keys_dir / INFO_FILE)
    public = (keys_dir / PUBLIC_FILE).read_bytes()
    key_id = str(info["key_id"])
    if key_id_of(public) != key_id:
        raise CryptoError(
            f"{keys_dir / PUBLIC_FILE} does not belong to key {key_id[:12]}… named in {INFO_FILE}: the key files are "
            "mixed up from different key sets"
        )
    context = load_context(secret_path.read_bytes())
    if not has_secret_key(context):
        raise CryptoError(f"{secret_path} holds no secret key")
    keys = ClientKeys(keys_dir, key_id, context, public)
    try:
        check = keys.decrypt(base64.b64decode(str(info["check"])), "fresh", "key check ciphertext")
    except CryptoError as error:
        raise CryptoError(f"{keys_dir / INFO_FILE}: key check failed ({error})") from error
    if not np.allclose(check[: len(_CHECK_VALUES)], _CHECK_VALUES, atol=1e-6):
        raise CryptoError(
            f"the secret key in {secret_path} does not belong to key {key_id[:12]}…: the key files are mixed up "
            "from different key sets"
        )
    return keys


def _read_info(path: Path) -> dict[str, Any]:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CryptoError(f"{path} is unreadable ({error})") from error
    if not isinstance(info, dict) or info.get("format_version") != KEYS_FORMAT_VERSION or "key_id" not in info:
        raise CryptoError(f"{path} is not a Mien key file of format {KEYS_FORMAT_VERSION}")
    return info

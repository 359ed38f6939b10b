"""CKKS parameters and the ciphertext operations both roles need, on TenSEAL.

TenSEAL makes the context and keys and (de)serializes them; the arithmetic runs through TenSEAL's own SEAL
bindings (``tenseal.sealapi``) because TenSEAL's vectors relinearize and rescale after every product: a score is a
sum of up to 64 products, and one relinearization per sum instead of one per product is what makes the
preselection cheap (a product costs ~0.4 ms, a relinearization ~2-4 ms on one core).

Parameters: ring degree N = 8192 (4,096 slots), coefficient moduli of 60, 40 and 60 bits (two data primes and
the special prime: 160 bits, within the 218 bits the homomorphic-encryption standard allows for 128-bit security
at N = 8192), scale 2^40. One product of two fresh ciphertexts followed by one rescale fits this chain; results
leave the server at the last level (one 60-bit prime), their values (scores of magnitude <= 1) far below its
2^19 headroom. Decryption error is about 1e-9 per slot.

Only the key owner encrypts (symmetric CKKS): ciphertexts are serialized "seeded" (the uniform half replaced by
its seed), which halves every upload, and the server, which holds no public key either, cannot make a
ciphertext of its own.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import numpy as np
import tenseal as ts
import tenseal.sealapi as sealapi

from tools.errors import CryptoError

POLY_MODULUS_DEGREE = 8192
COEFF_MOD_BIT_SIZES = (60, 40, 60)
SCALE_BITS = 40
SCALE = 2.0**SCALE_BITS
SLOTS = POLY_MODULUS_DEGREE // 2

Level = Literal["fresh", "result"]
"""``fresh``: as encrypted by the client (two data primes, scale 2^40); ``result``: a rescaled product."""

Ciphertext = Any
"""A SEAL ciphertext (``tenseal.sealapi.Ciphertext``); the bindings carry no type information for mypy."""


def new_secret_context() -> ts.Context:
    """A fresh key owner's context: secret key and relinearization keys, one thread, no Galois keys."""
    context = ts.context(
        ts.SCHEME_TYPE.CKKS,
        POLY_MODULUS_DEGREE,
        coeff_mod_bit_sizes=list(COEFF_MOD_BIT_SIZES),
        encryption_type=ts.ENCRYPTION_TYPE.SYMMETRIC,
        n_threads=1,
    )
    context.global_scale = SCALE
    context.generate_relin_keys()
    return context


def public_context_bytes(context: ts.Context) -> bytes:
    """What the server receives: parameters and relinearization keys, never the secret key."""
    return bytes(
        context.serialize(save_public_key=False, save_secret_key=False, save_galois_keys=False, save_relin_keys=True)
    )


def secret_context_bytes(context: ts.Context) -> bytes:
    """The key owner's whole context, secret key included (to be written only with 0o600 permissions)."""
    return bytes(
        context.serialize(save_public_key=False, save_secret_key=True, save_galois_keys=False, save_relin_keys=True)
    )


def load_context(data: bytes) -> ts.Context:
    """Deserialize a TenSEAL context; a damaged buffer raises ``CryptoError``."""
    try:
        context = ts.context_from(data, n_threads=1)
    except Exception as error:  # TenSEAL raises ValueError/RuntimeError from protobuf and SEAL
        raise CryptoError(f"encryption context is damaged or not a TenSEAL context ({error})") from error
    return context


def has_secret_key(context: ts.Context) -> bool:
    """Whether ``context`` can decrypt. Asking TenSEAL for a missing key raises, so the answer is caught here."""
    try:
        return bool(context.has_secret_key())
    except ValueError:
        return False


@contextlib.contextmanager
def _memory_file() -> Iterator[tuple[int, str]]:
    """A file that lives in memory only (Linux ``memfd``), for SEAL's path-only save/load bindings."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("mien-ckks", os.MFD_CLOEXEC)
        try:
            yield fd, f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    handle, path = tempfile.mkstemp(prefix="mien-ckks-")  # pragma: no cover - non-Linux fallback
    try:  # pragma: no cover
        yield handle, path
    finally:  # pragma: no cover
        os.close(handle)
        os.unlink(path)


class CkksOps:
    """The SEAL objects of one context. Encryption and decryption exist only where the secret key is.

    Vectors in and out are float64 arrays of ``SLOTS`` values.
    """

    def __init__(self, context: ts.Context) -> None:
        self.context = context
        self._seal = context.seal_context().data
        self._encoder = sealapi.CKKSEncoder(self._seal)
        self._evaluator = sealapi.Evaluator(self._seal)
        self._relin_keys = context.relin_keys().data
        self._fresh_parms = list(self._seal.first_parms_id())
        self._result_parms = list(self._seal.last_parms_id())
        self.can_decrypt = has_secret_key(context)
        self._encryptor: Any = None
        self._decryptor: Any = None
        if self.can_decrypt:
            secret = context.secret_key().data
            self._encryptor = sealapi.Encryptor(self._seal, secret)
            self._decryptor = sealapi.Decryptor(self._seal, secret)

    # -- client side -------------------------------------------------------------------------------------------
    def encrypt(self, values: np.ndarray) -> bytes:
        """Encrypt up to ``SLOTS`` values (missing slots are zero) and serialize the ciphertext, seeded."""
        if self._encryptor is None:
            raise CryptoError("this context holds no secret key, so it cannot encrypt (only the key owner can)")
        vector = np.asarray(values, dtype=np.float64).reshape(-1)
        if vector.shape[0] > SLOTS:
            raise CryptoError(f"a ciphertext holds {SLOTS} values, got {vector.shape[0]}")
        plain = sealapi.Plaintext()
        self._encoder.encode(vector.tolist(), SCALE, plain)
        with _memory_file() as (fd, path):
            self._encryptor.encrypt_symmetric(plain).save(path)
            return os.pread(fd, os.fstat(fd).st_size, 0)

    def decrypt(self, ciphertext: Ciphertext) -> np.ndarray:
        """The ``SLOTS`` values of ``ciphertext`` (float64)."""
        if self._decryptor is None:
            raise CryptoError("this context holds no secret key: the server side cannot decrypt")
        plain = sealapi.Plaintext()
        self._decryptor.decrypt(ciphertext, plain)
        return np.asarray(self._encoder.decode_double(plain), dtype=np.float64)[:SLOTS]

    # -- both sides ----------------------------------------------------------------------------------------------
    def load(self, payload: bytes, level: Level) -> Ciphertext:
        """Parse SEAL bytes into a ciphertext and check it fits this context at ``level``.

        SEAL itself rejects truncated streams and coefficients outside the moduli; the checks here reject a
        well-formed ciphertext of the wrong size, level or scale, which would otherwise give wrong scores.
        """
        ciphertext = sealapi.Ciphertext(self._seal)
        with _memory_file() as (fd, path):
            os.pwrite(fd, payload, 0)
            try:
                ciphertext.load(self._seal, path)
            except (RuntimeError, ValueError) as error:
                raise CryptoError(f"ciphertext is damaged and cannot be read ({error})") from error
        self._check_shape(ciphertext, level)
        return ciphertext

    def dump(self, ciphertext: Ciphertext) -> bytes:
        """SEAL's (compressed) serialization of ``ciphertext``."""
        with _memory_file() as (fd, path):
            ciphertext.save(path)
            return os.pread(fd, os.fstat(fd).st_size, 0)

    def add(self, first: Ciphertext, second: Ciphertext) -> Ciphertext:
        """A new ciphertext holding the slot-wise sum (no level is used)."""
        out = sealapi.Ciphertext(self._seal)
        self._evaluator.add(first, second, out)
        return out

    def sum_of_products(self, pairs: Iterable[tuple[Ciphertext, Ciphertext]]) -> Ciphertext:
        """Slot-wise sum of ``a * b`` over ``pairs``, relinearized and rescaled once at the end.

        The products stay three-part ciphertexts while they are summed (lazy relinearization), so the cost is
        one cheap multiplication per pair plus one relinearization and one rescale per sum.
        """
        total: Ciphertext = None
        product = sealapi.Ciphertext(self._seal)
        for first, second in pairs:
            if total is None:
                total = sealapi.Ciphertext(self._seal)
                self._evaluator.multiply(first, second, total)
            else:
                self._evaluator.multiply(first, second, product)
                self._evaluator.add_inplace(total, product)
        if total is None:
            raise CryptoError("nothing to multiply: no ciphertext pairs were given")
        self._evaluator.relinearize_inplace(total, self._relin_keys)
        self._evaluator.rescale_to_next_inplace(total)
        return total

    def _check_shape(self, ciphertext: Ciphertext, level: Level) -> None:
        expected = self._fresh_parms if level == "fresh" else self._result_parms
        if list(ciphertext.parms_id()) != expected:
            raise CryptoError(
                f"ciphertext is at the wrong level or was made with other encryption parameters (expected a "
                f"{level} ciphertext of this gallery's context)"
            )
        if ciphertext.size() != 2 or not ciphertext.is_ntt_form():
            raise CryptoError(f"ciphertext has {ciphertext.size()} parts; a {level} ciphertext has 2")
        scale_bits = math.log2(ciphertext.scale) if ciphertext.scale > 0 else float("nan")
        if not abs(scale_bits - SCALE_BITS) < 0.5:
            raise CryptoError(f"ciphertext scale 2^{scale_bits:.2f} is not this gallery's 2^{SCALE_BITS}")

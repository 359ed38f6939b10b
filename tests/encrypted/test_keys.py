"""Keys: made by the owner, kept private, checked on load; the server's context cannot decrypt."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest
import tenseal as ts

from tools.encrypted.ckks import CkksOps, has_secret_key, load_context
from tools.encrypted.keys import INFO_FILE, PUBLIC_FILE, SECRET_FILE, create_keys, load_keys
from tools.errors import CryptoError


def test_key_files_are_private_to_their_owner(keys_dir: Path) -> None:
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    for name in (SECRET_FILE, PUBLIC_FILE, INFO_FILE):
        assert stat.S_IMODE((keys_dir / name).stat().st_mode) == 0o600


def test_the_public_context_holds_no_secret_key_and_cannot_decrypt(keys_dir: Path) -> None:
    keys = load_keys(keys_dir)
    blob = keys.encrypt(np.array([0.25, -0.5]))
    server_context = load_context(keys.public_context)
    assert server_context.is_public() and not has_secret_key(server_context)
    with pytest.raises(ValueError, match=r"(?i)secret"):
        server_context.secret_key()
    server = CkksOps(server_context)
    ciphertext = keys.open(blob, "fresh", "test")
    with pytest.raises(CryptoError, match="cannot decrypt"):
        server.decrypt(ciphertext)
    with pytest.raises(CryptoError, match="cannot encrypt"):
        server.encrypt(np.ones(3))
    vector = ts.ckks_vector_from(server_context, ts.ckks_vector(keys.ops.context, [1.0, 2.0]).serialize())
    with pytest.raises(ValueError, match=r"(?i)secret"):
        vector.decrypt()
    np.testing.assert_allclose(keys.ops.decrypt(ciphertext)[:2], [0.25, -0.5], atol=1e-7)


def test_the_secret_key_bytes_are_not_in_what_the_server_gets(keys_dir: Path, tmp_path: Path) -> None:
    keys = load_keys(keys_dir)
    keys.ops.context.secret_key().data.save(str(tmp_path / "secret.bin"))
    secret = (tmp_path / "secret.bin").read_bytes()
    assert len(secret) > 10_000
    windows = [secret[i : i + 32] for i in range(200, len(secret) - 32, len(secret) // 20)]
    assert all(window in (keys_dir / SECRET_FILE).read_bytes() for window in windows)  # the scan finds it where it is
    assert not any(window in keys.public_context for window in windows)


def test_missing_keys_name_the_folder(tmp_path: Path) -> None:
    with pytest.raises(CryptoError, match=r"no usable encryption keys in .*missing secret-context.bin"):
        load_keys(tmp_path / "nowhere")


def test_keys_readable_by_others_are_refused(tmp_path: Path, keys_dir: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(keys_dir, copy)
    os.chmod(copy / SECRET_FILE, 0o644)
    with pytest.raises(CryptoError, match=r"readable by other users.*chmod 600"):
        load_keys(copy)


def test_mixed_key_files_are_refused(tmp_path: Path, keys_dir: Path) -> None:
    other = tmp_path / "other"
    create_keys(other)
    mixed = tmp_path / "mixed"
    shutil.copytree(keys_dir, mixed)
    shutil.copy2(other / SECRET_FILE, mixed / SECRET_FILE)
    with pytest.raises(CryptoError, match=r"does not belong to key .*mixed up"):
        load_keys(mixed)
    shutil.copy2(other / PUBLIC_FILE, mixed / PUBLIC_FILE)
    with pytest.raises(CryptoError, match="mixed up"):
        load_keys(mixed)


def test_existing_keys_are_never_replaced_silently(keys_dir: Path) -> None:
    with pytest.raises(CryptoError, match="refusing to replace"):
        create_keys(keys_dir)

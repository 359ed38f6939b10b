"""API keys for Mien's servers: issued once, stored only as salted SHA-256 hashes, checked in constant time.

Why SHA-256 and not scrypt: a key is 256 random bits made here (``secrets.token_urlsafe(32)``), not a password a
person chose, so there is nothing for a slow hash to protect against guessing; a fast hash keeps the check off the
request's critical path (microseconds against scrypt's tens of milliseconds per request). The salt makes two
stores with the same key differ. The file holds names, scopes and hashes, never a key; it is written atomically
(temporary file, fsync, rename) with mode 0600.

A token reads ``mien_<key id>_<secret>``: the key id (12 hex digits) finds the entry without comparing secrets
one by one; the secret's hash is compared with ``hmac.compare_digest``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tools.errors import ConfigError

# identify: search a gallery (and read its layout); enroll: add and remove templates (implies identify);
# chat: the chat model server; agent: the agent's own servers (web page, MCP, agent API).
SCOPES: tuple[str, ...] = ("identify", "enroll", "chat", "agent")
IMPLIED: dict[str, frozenset[str]] = {"enroll": frozenset({"identify"})}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_TOKEN = re.compile(r"^mien_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")
FILE_VERSION = 1


@dataclass(frozen=True)
class ApiKey:
    """One issued key as stored: who it is for and what it may do (the hash is not part of the public view)."""

    name: str
    key_id: str
    scopes: frozenset[str]
    created_s: float

    def allows(self, scope: str) -> bool:
        return scope in self.scopes or any(scope in IMPLIED.get(s, frozenset()) for s in self.scopes)


@dataclass(frozen=True)
class _Entry:
    key: ApiKey
    salt: bytes
    digest: bytes


def _digest(salt: bytes, secret: str) -> bytes:
    return hashlib.sha256(salt + secret.encode("ascii")).digest()


class KeyStore:
    """The key file at ``path``; re-read when it changes on disk, so a revoked key stops working without a
    restart of the servers that use it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._entries: dict[str, _Entry] = {}

    # -- managing ------------------------------------------------------------------------------------------------
    def add(self, name: str, scopes: list[str] | tuple[str, ...]) -> str:
        """Issue a key for ``name`` with ``scopes``; returns the token, which is shown once and never stored."""
        if not _NAME.match(name):
            raise ConfigError(f"key name {name!r}: use 1-64 letters, digits and _ . @ - (starting with a letter/digit)")
        wanted = frozenset(scopes)
        unknown = sorted(wanted - set(SCOPES))
        if not wanted or unknown:
            raise ConfigError(f"unknown or missing scope {unknown or ''}: choose from {', '.join(SCOPES)}")
        entries = self._read_file()
        if any(e.key.name == name for e in entries.values()):
            raise ConfigError(f"a key named {name!r} exists already; revoke it first or choose another name")
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        entries[key_id] = _Entry(ApiKey(name, key_id, wanted, round(time.time(), 3)), salt, _digest(salt, secret))
        self._write_file(entries)
        return f"mien_{key_id}_{secret}"

    def revoke(self, name: str) -> ApiKey:
        entries = self._read_file()
        found = [key_id for key_id, e in entries.items() if e.key.name == name]
        if not found:
            raise ConfigError(f"no key named {name!r} in {self.path}")
        gone = entries.pop(found[0])
        self._write_file(entries)
        return gone.key

    def keys(self) -> list[ApiKey]:
        return sorted((e.key for e in self._current().values()), key=lambda k: k.created_s)

    def has_keys(self, scopes: frozenset[str] | None = None) -> bool:
        """Whether any key exists (with one of ``scopes``, or implying one, when given)."""
        keys = [e.key for e in self._current().values()]
        return any(scopes is None or any(k.allows(s) for s in scopes) for k in keys)

    # -- checking ------------------------------------------------------------------------------------------------
    def verify(self, token: str) -> ApiKey | None:
        """The key ``token`` belongs to, or None. The secret is always hashed and compared (against a dummy when
        the key id is unknown), so timing tells nothing about which part was wrong."""
        match = _TOKEN.match(token)
        key_id, secret = (match.group(1), match.group(2)) if match else ("", token[:100])
        entry = self._current().get(key_id)
        salt, expected = (entry.salt, entry.digest) if entry else (b"\0" * 16, b"\0" * 32)
        try:
            digest = _digest(salt, secret)
        except UnicodeEncodeError:
            digest = b"\1" * 32
        same = hmac.compare_digest(digest, expected)
        return entry.key if entry is not None and same and match is not None else None

    # -- the file ------------------------------------------------------------------------------------------------
    def _current(self) -> dict[str, _Entry]:
        try:
            stat = self.path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._entries = self._read_file() if stamp is not None else {}
                self._stamp = stamp
            return self._entries

    def _read_file(self) -> dict[str, _Entry]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") != FILE_VERSION:
                raise ValueError(f"version {data.get('version')!r}, this Mien reads {FILE_VERSION}")
            out = {}
            for row in data["keys"]:
                key = ApiKey(str(row["name"]), str(row["key_id"]), frozenset(row["scopes"]), float(row["created_s"]))
                out[key.key_id] = _Entry(key, bytes.fromhex(row["salt"]), bytes.fromhex(row["sha256"]))
            return out
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise ConfigError(f"{self.path}: the API key file is damaged ({error}); fix or remove it") from error

    def _write_file(self, entries: dict[str, _Entry]) -> None:
        rows = [
            {
                "name": e.key.name,
                "key_id": e.key.key_id,
                "scopes": sorted(e.key.scopes),
                "created_s": e.key.created_s,
                "salt": e.salt.hex(),
                "sha256": e.digest.hex(),
            }
            for e in entries.values()
        ]
        text = json.dumps({"version": FILE_VERSION, "keys": rows}, indent=1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".api-keys-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        with self._lock:
            self._stamp = None  # re-read on next use

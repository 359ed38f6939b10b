"""The server's SQLite file: ciphertext blobs, template placements by opaque id, the public context, metadata.

Every change is one transaction (``apply``): a failed or interrupted enrollment, removal or compaction leaves
the file exactly as it was. Nothing in the file is a plaintext template, probe, score or name (checked by
``tests/encrypted/test_no_plaintext.py``): blobs are ciphertext envelopes, the rest are ids, slot positions,
sizes and hashes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.encrypted.messages import Placement, StoredTier
from tools.errors import GalleryError
from tools.sqlite_tx import immediate_transaction, open_wal

FORMAT_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS context (id INTEGER PRIMARY KEY CHECK (id = 1), public_context BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS ciphertexts (
    tier TEXT NOT NULL, segment INTEGER NOT NULL, part INTEGER NOT NULL, blob BLOB NOT NULL,
    PRIMARY KEY (tier, segment, part)
);
CREATE TABLE IF NOT EXISTS templates (
    template_id TEXT PRIMARY KEY,
    full_segment INTEGER NOT NULL, full_slot INTEGER NOT NULL,
    pre_tier TEXT NOT NULL, pre_segment INTEGER NOT NULL, pre_slot INTEGER NOT NULL,
    UNIQUE (full_segment, full_slot), UNIQUE (pre_tier, pre_segment, pre_slot)
);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at_s REAL NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL,
    revision INTEGER NOT NULL, templates INTEGER NOT NULL, template_ids TEXT NOT NULL
);
"""
# The audit log is append-only: SQLite itself refuses to change or delete a row (triggers hold ';', so they are
# not split with the statements above).
_AUDIT_TRIGGERS = tuple(
    f"CREATE TRIGGER IF NOT EXISTS audit_no_{verb.lower()} BEFORE {verb} ON audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    for verb in ("UPDATE", "DELETE")
)


@dataclass(frozen=True)
class AuditRecord:
    """One gallery change as the audit log keeps it: who (the API key's name), what, when, and the opaque ids of
    the templates it touched; never a ciphertext, template or name."""

    who: str
    action: str
    revision: int
    template_ids: tuple[str, ...] = ()
    at_s: float = 0.0
    seq: int = 0


@dataclass
class StoreChanges:
    """One atomic change: rows to write and delete, and metadata to set."""

    put_ciphertexts: dict[tuple[str, int, int], bytes] = field(default_factory=dict)
    delete_segments: set[tuple[str, int]] = field(default_factory=set)
    delete_tiers: set[str] = field(default_factory=set)
    upsert_placements: list[Placement] = field(default_factory=list)
    delete_placements: list[str] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    audit: AuditRecord | None = None


class GalleryStore:
    """The SQLite file at ``path`` (created by ``initialize``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        self._schema_ready = False
        if self.path.exists():
            with self._read() as db:
                self._check_format(db)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def meta(self) -> dict[str, str]:
        """All metadata (empty before ``initialize``)."""
        if not self.path.exists():
            return {}
        with self._read() as db:
            if not _has_table(db, "meta"):
                return {}
            return {str(k): str(v) for k, v in db.execute("SELECT key, value FROM meta").fetchall()}

    def initialize(self, meta: dict[str, str], public_context: bytes) -> None:
        """Create the schema, the metadata and the public context in one transaction."""
        with self._transaction() as db:
            if db.execute("SELECT COUNT(*) FROM meta").fetchone()[0]:
                raise GalleryError(f"{self.path} already holds a gallery")
            rows = [*meta.items(), ("format_version", str(FORMAT_VERSION))]
            db.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows)
            db.execute("INSERT INTO context (id, public_context) VALUES (1, ?)", (public_context,))

    def public_context(self) -> bytes:
        with self._read() as db:
            row = db.execute("SELECT public_context FROM context WHERE id = 1").fetchone()
        if row is None:
            raise GalleryError(f"{self.path} holds no encryption context")
        return bytes(row[0])

    def iter_ciphertexts(self, tiers: tuple[str, ...]) -> Iterator[tuple[str, int, int, bytes]]:
        """(tier, segment, part, blob) of every ciphertext in ``tiers``."""
        marks = ",".join("?" * len(tiers))
        with self._read() as db:
            rows = db.execute(
                f"SELECT tier, segment, part, blob FROM ciphertexts WHERE tier IN ({marks}) "
                "ORDER BY tier, segment, part",
                tiers,
            )
            for tier, segment, part, blob in rows:
                yield str(tier), int(segment), int(part), bytes(blob)

    def segment(self, tier: StoredTier, segment: int) -> list[bytes]:
        """The part blobs of one segment, in part order (empty when the segment does not exist)."""
        with self._read() as db:
            rows = db.execute(
                "SELECT blob FROM ciphertexts WHERE tier = ? AND segment = ? ORDER BY part", (tier, segment)
            ).fetchall()
        return [bytes(row[0]) for row in rows]

    def segments(self, tier: StoredTier, segments: list[int]) -> dict[int, list[bytes]]:
        """Several segments' part blobs at once."""
        return {segment: self.segment(tier, segment) for segment in segments}

    def placements(self) -> list[Placement]:
        if not self.path.exists():
            return []
        with self._read() as db:
            rows = db.execute(
                "SELECT template_id, full_segment, full_slot, pre_tier, pre_segment, pre_slot FROM templates "
                "ORDER BY full_segment, full_slot"
            ).fetchall()
        return [
            Placement(
                template_id=r[0], full_segment=r[1], full_slot=r[2], pre_tier=r[3], pre_segment=r[4], pre_slot=r[5]
            )
            for r in rows
        ]

    def apply(self, changes: StoreChanges) -> None:
        """Write ``changes`` in one transaction: all of them or none."""
        with self._transaction() as db:
            for tier in changes.delete_tiers:
                db.execute("DELETE FROM ciphertexts WHERE tier = ?", (tier,))
            db.executemany("DELETE FROM ciphertexts WHERE tier = ? AND segment = ?", sorted(changes.delete_segments))
            db.executemany(
                "INSERT OR REPLACE INTO ciphertexts (tier, segment, part, blob) VALUES (?, ?, ?, ?)",
                [(t, s, p, blob) for (t, s, p), blob in changes.put_ciphertexts.items()],
            )
            db.executemany("DELETE FROM templates WHERE template_id = ?", [(i,) for i in changes.delete_placements])
            # Moves first free their old positions, so that UNIQUE constraints see the final layout only.
            ids = [(p.template_id,) for p in changes.upsert_placements]
            db.executemany("DELETE FROM templates WHERE template_id = ?", ids)
            db.executemany(
                "INSERT INTO templates (template_id, full_segment, full_slot, pre_tier, pre_segment, pre_slot) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (p.template_id, p.full_segment, p.full_slot, p.pre_tier, p.pre_segment, p.pre_slot)
                    for p in changes.upsert_placements
                ],
            )
            db.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(changes.meta.items()))
            if changes.audit is not None:
                self._append_audit(db, changes.audit)

    def append_audit(self, record: AuditRecord) -> None:
        """Record a change that ``apply`` did not make (the gallery's creation)."""
        with self._transaction() as db:
            self._append_audit(db, record)

    def audit_log(self) -> list[AuditRecord]:
        """Every recorded change, oldest first."""
        if not self.path.exists():
            return []
        with self._read() as db:
            if not _has_table(db, "audit"):
                return []
            rows = db.execute(
                "SELECT seq, at_s, who, action, revision, template_ids FROM audit ORDER BY seq"
            ).fetchall()
        return [
            AuditRecord(who=r[2], action=r[3], revision=r[4], template_ids=tuple(json.loads(r[5])), at_s=r[1], seq=r[0])
            for r in rows
        ]

    @staticmethod
    def _append_audit(db: sqlite3.Connection, record: AuditRecord) -> None:
        db.execute(
            "INSERT INTO audit (at_s, who, action, revision, templates, template_ids) VALUES (?, ?, ?, ?, ?, ?)",
            (
                record.at_s or round(time.time(), 3),
                record.who,
                record.action,
                record.revision,
                len(record.template_ids),
                json.dumps(list(record.template_ids)),
            ),
        )

    def size_bytes(self) -> int:
        """Bytes on disk (database plus write-ahead log)."""
        return sum(p.stat().st_size for p in (self.path, self.path.with_name(self.path.name + "-wal")) if p.exists())

    def _check_format(self, db: sqlite3.Connection) -> None:
        try:
            if not _has_table(db, "meta"):
                return
            row = db.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone()
        except sqlite3.DatabaseError as error:
            raise GalleryError(f"{self.path}: not an encrypted gallery (not a SQLite database: {error})") from error
        if row is not None and int(row[0]) != FORMAT_VERSION:
            raise GalleryError(
                f"{self.path}: encrypted gallery format {row[0]} is not supported (this Mien reads format "
                f"{FORMAT_VERSION})"
            )

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._connection()
            except sqlite3.DatabaseError as error:
                raise GalleryError(f"{self.path}: encrypted gallery unreadable ({error})") from error

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._connection()
            try:
                with immediate_transaction(db):
                    if not self._schema_ready:
                        for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                            db.execute(statement)
                        for trigger in _AUDIT_TRIGGERS:
                            db.execute(trigger)
                    yield db
                self._schema_ready = True
            except sqlite3.IntegrityError as error:
                raise GalleryError(f"{self.path}: change refused, it would break the layout ({error})") from error
            except sqlite3.DatabaseError as error:
                raise GalleryError(f"{self.path}: encrypted gallery write failed ({error})") from error

    def _connection(self) -> sqlite3.Connection:
        """One connection per store, kept open: closing the last WAL connection checkpoints (and syncs) the file,
        which would cost more than the cryptography of an enrollment."""
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                db = open_wal(self.path, 30.0, shared_across_threads=True)
                db.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.DatabaseError as error:
                raise GalleryError(f"{self.path}: not an encrypted gallery (not a SQLite database: {error})") from error
            self._db = db
        return self._db


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def dumps_meta(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))

"""The plaintext identity gallery: named people with several templates each, in one SQLite file.

Every change runs in one transaction, so a crash half-way through an enrollment leaves the file as it was.
Templates are L2-normalised float32 vectors stored per embedder: vectors of different backends never mix.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from tools.errors import GalleryError, UnknownIdentityError
from tools.recognition.templates import clean_identity_name, unit_templates
from tools.recognition.types import Candidate, Identity
from tools.sqlite_tx import immediate_transaction, open_wal

FORMAT_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS identities (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_s REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS templates (
    id INTEGER PRIMARY KEY,
    identity_id INTEGER NOT NULL REFERENCES identities(id) ON DELETE CASCADE,
    embedder TEXT NOT NULL, dim INTEGER NOT NULL, vector BLOB NOT NULL, created_s REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS templates_by_embedder ON templates (embedder);
"""


class PlainGallery:
    """A SQLite gallery at ``path`` (created on first write). Implements ``IdentityGallery``."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists():
            self._check_readable()

    def enroll(self, name: str, embeddings: np.ndarray, embedder: str) -> int:
        """Add templates (n, dim) for ``name`` (created if new); returns its template count afterwards."""
        name = clean_identity_name(name)
        vectors = unit_templates(embeddings)
        now = time.time()
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO identities (name, created_s) VALUES (?, ?)", (name, now))
            (identity_id,) = db.execute("SELECT id FROM identities WHERE name = ?", (name,)).fetchone()
            db.executemany(
                "INSERT INTO templates (identity_id, embedder, dim, vector, created_s) VALUES (?, ?, ?, ?, ?)",
                [(identity_id, embedder, vectors.shape[1], v.tobytes(), now) for v in vectors],
            )
            (count,) = db.execute("SELECT COUNT(*) FROM templates WHERE identity_id = ?", (identity_id,)).fetchone()
        return int(count)

    def remove(self, name: str) -> int:
        """Delete ``name`` and its templates; returns the number of templates removed."""
        with self._transaction() as db:
            row = db.execute("SELECT id FROM identities WHERE name = ?", (name,)).fetchone()
            if row is None:
                raise UnknownIdentityError(f"{name!r} is not enrolled in {self.path}")
            (count,) = db.execute("SELECT COUNT(*) FROM templates WHERE identity_id = ?", row).fetchone()
            db.execute("DELETE FROM templates WHERE identity_id = ?", row)
            db.execute("DELETE FROM identities WHERE id = ?", row)
        return int(count)

    def names(self) -> list[tuple[str, int]]:
        """(name, template count) for every identity, sorted by name."""
        if not self.path.exists():
            return []
        with self._read() as db:
            rows = db.execute(
                "SELECT i.name, COUNT(t.id) FROM identities i LEFT JOIN templates t ON t.identity_id = i.id "
                "GROUP BY i.id ORDER BY i.name"
            ).fetchall()
        return [(str(name), int(count)) for name, count in rows]

    def templates(self, embedder: str) -> tuple[list[str], np.ndarray]:
        """Every template of ``embedder``: the owner's name per row and the (n, dim) float32 matrix."""
        if not self.path.exists():
            return [], np.zeros((0, 0), dtype=np.float32)
        with self._read() as db:
            rows = db.execute(
                "SELECT i.name, t.dim, t.vector FROM templates t JOIN identities i ON i.id = t.identity_id "
                "WHERE t.embedder = ? ORDER BY t.id",
                (embedder,),
            ).fetchall()
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        dims = {int(r[1]) for r in rows}
        if len(dims) != 1:
            raise GalleryError(f"{self.path}: templates of {embedder} have mixed sizes {sorted(dims)}")
        matrix = np.stack([np.frombuffer(r[2], dtype=np.float32) for r in rows])
        return [str(r[0]) for r in rows], matrix

    def identify(self, probe: np.ndarray, embedder: str, threshold: float, top_k: int = 5) -> Identity:
        """Best identity for one probe (dim,): each identity scores its best template's cosine similarity."""
        owners, matrix = self.templates(embedder)
        if not owners:
            return Identity(None, 0.0, threshold, "plaintext", embedder)
        vector = np.asarray(probe, dtype=np.float32).reshape(-1)
        if vector.shape[0] != matrix.shape[1]:
            raise GalleryError(f"probe has {vector.shape[0]} dimensions, gallery templates {matrix.shape[1]}")
        scores = matrix @ (vector / max(float(np.linalg.norm(vector)), 1e-12))
        best: dict[str, float] = {}
        for owner, score in zip(owners, scores.tolist(), strict=True):
            best[owner] = max(score, best.get(owner, -1.0))
        ranked = sorted(best.items(), key=lambda item: item[1], reverse=True)[:top_k]
        top_name, top_score = ranked[0]
        candidates = tuple(Candidate(n, s) for n, s in ranked)
        name = top_name if top_score >= threshold else None
        return Identity(name, top_score, threshold, "plaintext", embedder, candidates)

    def verify(self, name: str, probe: np.ndarray, embedder: str, threshold: float) -> Identity:
        """Whether ``probe`` is ``name``: ``Identity.name`` is ``name`` if its best template passes ``threshold``."""
        owners, matrix = self.templates(embedder)
        rows = [i for i, owner in enumerate(owners) if owner == name]
        if not rows:
            raise UnknownIdentityError(f"{name!r} has no {embedder} templates in {self.path}")
        vector = np.asarray(probe, dtype=np.float32).reshape(-1)
        score = float(np.max(matrix[rows] @ (vector / max(float(np.linalg.norm(vector)), 1e-12))))
        return Identity(
            name if score >= threshold else None, score, threshold, "plaintext", embedder, (Candidate(name, score),)
        )

    def _check_readable(self) -> None:
        try:
            with self._read() as db:
                db.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone()
        except sqlite3.DatabaseError as error:
            raise GalleryError(f"{self.path}: not a Mien gallery (not a SQLite database: {error})") from error

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        db = self._connect()
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._connect()
        try:
            with immediate_transaction(db):
                _ensure_schema(db)
                yield db
        except sqlite3.DatabaseError as error:
            raise GalleryError(f"{self.path}: gallery write failed ({error})") from error
        finally:
            db.close()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = open_wal(self.path, 10.0)
            db.execute("PRAGMA foreign_keys = ON")
        except sqlite3.DatabaseError as error:
            raise GalleryError(f"{self.path}: not a Mien gallery (not a SQLite database: {error})") from error
        return db


def _ensure_schema(db: sqlite3.Connection) -> None:
    for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
        db.execute(statement)
    row = db.execute("SELECT value FROM meta WHERE key = 'format_version'").fetchone()
    if row is None:
        db.execute("INSERT INTO meta (key, value) VALUES ('format_version', ?)", (str(FORMAT_VERSION),))
    elif int(row[0]) != FORMAT_VERSION:
        raise GalleryError(f"gallery format {row[0]} is not supported (this Mien reads format {FORMAT_VERSION})")

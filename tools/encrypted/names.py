"""The key owner's id → name map. Names never reach the server: it knows templates by random ids only.

Kept in ``<keys_dir>/names.sqlite`` (mode 0o600) beside the keys, and bound to one gallery id, so that a keys
folder pointed at another gallery (or a recreated one) is refused instead of naming strangers. Each template's
residual norm (what its preselection features miss, ``tools.encrypted.projection``) is kept here too: the key
owner needs it to bound scores, and it is derived from the template, so it stays with the key owner.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tools.errors import GalleryError
from tools.sqlite_tx import immediate_transaction, open_wal

NAMES_FILE = "names.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS templates (
    template_id TEXT PRIMARY KEY, name TEXT NOT NULL, residual REAL, enrolled_s REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS templates_by_name ON templates (name);
"""


class NameBook:
    """The id → name map of one gallery, in ``keys_dir``."""

    def __init__(self, keys_dir: Path) -> None:
        self.path = Path(keys_dir) / NAMES_FILE
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None

    def bind(self, gallery_id: str) -> None:
        """Tie this map to ``gallery_id`` on first use; a different gallery later raises ``GalleryError``."""
        with self._transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'gallery_id'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta (key, value) VALUES ('gallery_id', ?)", (gallery_id,))
            elif row[0] != gallery_id:
                raise GalleryError(
                    f"{self.path} names the templates of gallery {row[0][:12]}…, but the gallery in use is "
                    f"{gallery_id[:12]}…: this keys folder belongs to another (or a recreated) gallery"
                )

    def add(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Record (template id, name) pairs."""
        now = time.time()
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO templates (template_id, name, enrolled_s) VALUES (?, ?, ?)",
                [(template_id, name, now) for template_id, name in pairs],
            )

    def set_residuals(self, residuals: dict[str, float]) -> None:
        """Record templates' residual norms."""
        with self._transaction() as db:
            db.executemany(
                "UPDATE templates SET residual = ? WHERE template_id = ?", [(float(r), i) for i, r in residuals.items()]
            )

    def residuals(self) -> dict[str, float]:
        """Every recorded residual norm by template id (templates without one are left out)."""
        with self._read() as db:
            rows = db.execute("SELECT template_id, residual FROM templates WHERE residual IS NOT NULL")
            return {str(i): float(r) for i, r in rows}

    def forget(self, template_ids: Iterable[str]) -> None:
        with self._transaction() as db:
            db.executemany("DELETE FROM templates WHERE template_id = ?", [(i,) for i in template_ids])

    def ids_of(self, name: str) -> list[str]:
        with self._read() as db:
            return [str(r[0]) for r in db.execute("SELECT template_id FROM templates WHERE name = ?", (name,))]

    def names_of(self, template_ids: Iterable[str]) -> dict[str, str]:
        """The names of ``template_ids`` (ids without a name are left out)."""
        wanted = list(template_ids)
        out: dict[str, str] = {}
        with self._read() as db:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = db.execute(f"SELECT template_id, name FROM templates WHERE template_id IN ({marks})", chunk)
                out.update({str(i): str(n) for i, n in rows})
        return out

    def all(self) -> dict[str, str]:
        """Every template id and its name."""
        with self._read() as db:
            return {str(i): str(n) for i, n in db.execute("SELECT template_id, name FROM templates")}

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._transaction() as db:
            yield db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._connection()
            try:
                with immediate_transaction(db):
                    yield db
            except sqlite3.DatabaseError as error:
                raise GalleryError(f"{self.path}: name map write failed ({error})") from error

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            new = not self.path.exists()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                db = open_wal(self.path, 30.0, shared_across_threads=True)
                if new:
                    os.chmod(self.path, 0o600)
                db.execute("PRAGMA synchronous = NORMAL")
                db.executescript(_SCHEMA)
            except sqlite3.DatabaseError as error:
                raise GalleryError(f"{self.path}: unreadable name map ({error})") from error
            self._db = db
        return self._db

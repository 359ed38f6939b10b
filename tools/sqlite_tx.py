"""The SQLite pieces every Mien store shares: a WAL connection and an all-or-nothing write transaction.

Why one place: the plaintext gallery, the encrypted template store and the encrypted name map must all keep the same
guarantee (a crash or an exception in the middle of a change leaves the file as it was), so the way a transaction
begins, rolls back and commits is written once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def open_wal(path: Path, timeout_s: float, *, shared_across_threads: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with write-ahead logging.

    Raises ``sqlite3.DatabaseError`` for a file that is not a SQLite database; callers turn it into their own error.
    """
    db = sqlite3.connect(path, timeout=timeout_s, isolation_level=None, check_same_thread=not shared_across_threads)
    try:
        db.execute("PRAGMA journal_mode = WAL")
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


@contextmanager
def immediate_transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``; any exception in the body (even ``KeyboardInterrupt``) rolls back first.

    IMMEDIATE takes the write lock up front, so two writers queue on SQLite's busy timeout instead of failing later
    with a lock upgrade error.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")

"""The metadata database on one machine: a SQLite file (stdlib ``sqlite3``, WAL).

Several processes may open the same file: writes take ``BEGIN IMMEDIATE`` and wait up to
``busy_timeout`` for each other, readers never block.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from ._db import SQLITE, Connection, DatabaseError, Dialect

__all__ = ["SqliteDatabase"]


class SqliteDatabase:
    """:class:`~._db.Database` over a SQLite file, one connection per thread."""

    dialect: Dialect = SQLITE

    def __init__(self, path: Path, busy_timeout_ms: int = 10_000) -> None:
        self.path = path
        self._busy = busy_timeout_ms
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()

    def __str__(self) -> str:
        return str(self.path)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=self._busy / 1000, check_same_thread=False
            )
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy)}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        yield self._conn()

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back already (SQLITE_FULL does): a second ROLLBACK would
            # raise and hide the real error. A failed COMMIT leaves the transaction open.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def migrate(self, steps: Sequence[Sequence[str]]) -> None:
        with self.write() as conn:
            version: int = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(steps):
                raise DatabaseError(
                    f"{self.path} was written by a newer myo-server (schema {version} >"
                    f" {len(steps)}); upgrade myo-mcp or use another data directory"
                )
            for step in steps[version:]:
                for statement in step:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {len(steps)}")

    def close(self) -> None:
        """Close every connection this object opened (from any thread)."""
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()

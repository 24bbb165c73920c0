"""The metadata database shared by many hosts: PostgreSQL through psycopg 3 and its pool.

Needs the ``scale`` extra (``pip install 'myo-mcp[scale]'``). Each process (API or worker)
opens its own pool; transactions are short, and the job queue's claim skips rows another
worker holds (``FOR UPDATE SKIP LOCKED``) instead of waiting for them.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator, Sequence
from typing import Any

from ._config import SCALE_EXTRA_HINT
from ._db import POSTGRESQL, Connection, Cursor, DatabaseError, Dialect

__all__ = ["PostgresDatabase", "describe_url"]

# Any constant: the advisory lock that lets one process at a time migrate the schema.
_MIGRATION_LOCK = 0x6D796F5F736368  # "myo_sch"


@functools.lru_cache(maxsize=1024)
def _placeholders(sql: str) -> str:
    """The store's ``?`` parameters as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


def describe_url(url: str) -> str:
    """A database URL as it may be shown: user, host, port and database, never a password."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(url)
    except Exception:  # an unparsable URL: say no more than its scheme
        return url.split(":", 1)[0] + "://…"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', '')}{port}/{parts.get('dbname', '')}"


class _Connection:
    """A pooled psycopg connection that takes the store's ``?`` parameters."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        cursor: Cursor = self._conn.execute(_placeholders(sql), tuple(params))
        return cursor


class PostgresDatabase:
    """:class:`~._db.Database` over PostgreSQL: a connection pool per process."""

    dialect: Dialect = POSTGRESQL

    def __init__(self, url: str, max_connections: int = 8, connect_timeout_s: float = 10.0) -> None:
        try:
            from psycopg.rows import dict_row
            from psycopg_pool import ConnectionPool
        except ImportError:
            raise DatabaseError(
                f"a PostgreSQL database needs psycopg, which is not installed: {SCALE_EXTRA_HINT}"
            ) from None
        self.url = url
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            kwargs={"row_factory": dict_row, "autocommit": True},
            timeout=connect_timeout_s,
            open=False,
            name="myo-server",
        )
        self._pool.open(wait=False)
        try:
            self._pool.wait(timeout=connect_timeout_s)
        except Exception as exc:
            self._pool.close()
            raise DatabaseError(
                f"cannot connect to the database {describe_url(url)} within "
                f"{connect_timeout_s:g} s ({type(exc).__name__}): check that PostgreSQL runs "
                "there and that the URL's user, host, port and database are right"
            ) from None

    def __str__(self) -> str:
        return describe_url(self.url)

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        with self._pool.connection() as conn:
            yield _Connection(conn)

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        with self._pool.connection() as conn, conn.transaction():
            yield _Connection(conn)

    def migrate(self, steps: Sequence[Sequence[str]]) -> None:
        with self.write() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
            conn.execute("CREATE TABLE IF NOT EXISTS myo_schema (version INTEGER NOT NULL)")
            row = conn.execute("SELECT version FROM myo_schema").fetchone()
            version = int(row["version"]) if row else 0
            if version > len(steps):
                raise DatabaseError(
                    f"the database {self} was written by a newer myo-server (schema {version} >"
                    f" {len(steps)}); upgrade myo-mcp on every host"
                )
            for step in steps[version:]:
                for statement in step:
                    conn.execute(statement)
            if row is None:
                conn.execute("INSERT INTO myo_schema (version) VALUES (?)", (len(steps),))
            else:
                conn.execute("UPDATE myo_schema SET version = ?", (len(steps),))

    def close(self) -> None:
        self._pool.close()

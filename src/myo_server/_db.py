"""The SQL database under the metadata store: one small interface, two engines (SQLite for one
machine, PostgreSQL for many), and the few places where their SQL differs.

The store writes its SQL once, with ``?`` parameters and columns read by name; an engine runs
it (PostgreSQL's driver gets ``%s``) and supplies a :class:`Dialect` for the rest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = [
    "POSTGRESQL",
    "SQLITE",
    "Connection",
    "Cursor",
    "Database",
    "DatabaseError",
    "Dialect",
    "Row",
]


class DatabaseError(RuntimeError):
    """The database cannot be used: unreachable, written by a newer server, or its driver is
    missing. The message says which and what to do."""


class Row(Protocol):
    """A result row; columns are read by name."""

    def __getitem__(self, key: str, /) -> Any: ...


class Cursor(Protocol):
    """What a statement returns."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection inside a read or a write transaction."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement with ``?`` parameters."""
        ...


@dataclass(frozen=True)
class Dialect:
    """The SQL that differs between the engines, as templates the store fills in."""

    name: Literal["sqlite", "postgresql"]
    #: Column type of times (epoch seconds): PostgreSQL's REAL is single precision.
    real: str
    #: Comma-joined values of a column over a group: ``.format(expr)``.
    join_ids: str
    #: A JSON object text of key -> value over a group: ``.format(key, value)``.
    json_object_agg: str
    #: The values of a JSON object held in a text column, as rows of ``value``: ``.format(col)``.
    json_values: str
    #: The larger of two numbers.
    greatest: str
    #: The smaller of two numbers.
    least: str
    #: Locks the rows a SELECT inside a write transaction returns until it ends (SQLite's
    #: write transactions are serial: nothing to add).
    for_update: str
    #: The same, skipping rows another transaction holds (the job queue's claim).
    skip_locked: str


SQLITE = Dialect(
    name="sqlite",
    real="REAL",
    join_ids="group_concat({})",
    json_object_agg="json_group_object({}, {})",
    json_values="SELECT value FROM json_each({})",
    greatest="MAX",
    least="MIN",
    for_update="",
    skip_locked="",
)
POSTGRESQL = Dialect(
    name="postgresql",
    real="DOUBLE PRECISION",
    join_ids="string_agg({}, ',')",
    json_object_agg="json_object_agg({}, {})::text",
    json_values="SELECT value FROM json_each_text(({})::json)",
    greatest="GREATEST",
    least="LEAST",
    for_update=" FOR UPDATE",
    skip_locked=" FOR UPDATE SKIP LOCKED",
)


class Database(Protocol):
    """Transactions on one database, from any thread of any process."""

    dialect: Dialect

    def read(self) -> AbstractContextManager[Connection]:
        """A connection for reads (each statement sees committed data)."""
        ...

    def write(self) -> AbstractContextManager[Connection]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        ...

    def migrate(self, steps: Sequence[Sequence[str]]) -> None:
        """Bring the schema to version ``len(steps)``: the statements of ``steps[i]`` take a
        database at version ``i`` to ``i + 1``, in one transaction. One process migrates at a
        time; a database written by a newer server (a higher version) is refused.
        """
        ...

    def close(self) -> None:
        """Close every connection this object opened."""
        ...

"""A full disk: recognising it (ENOSPC, EDQUOT, SQLite's SQLITE_FULL) and saying so."""

from __future__ import annotations

import errno
import sqlite3

OUT_OF_SPACE = (
    "The server is out of disk space (or over its disk quota), so nothing was stored. Retry once"
    " its operator has freed space in the data directory."
)
JOB_OUT_OF_SPACE = (
    "The server ran out of disk space (or over its disk quota) while storing the job's output."
    " Start the job again once its operator has freed space in the data directory."
)
_NO_SPACE_ERRNOS = frozenset(
    code for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if code is not None
)
_SQLITE_FULL = 13


def out_of_space(exc: BaseException) -> bool:
    """Whether ``exc`` means the disk (or the user's quota) is full."""
    if isinstance(exc, OSError):
        return exc.errno in _NO_SPACE_ERRNOS
    if isinstance(exc, sqlite3.OperationalError):
        code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
        if code is not None:
            return bool(code & 0xFF == _SQLITE_FULL)
        return "database or disk is full" in str(exc)
    return False

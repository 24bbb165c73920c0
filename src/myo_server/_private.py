"""The data directory is private to the server's user: directories 0700, files 0600.

Entries are created with these modes explicitly (the umask belongs to the embedding program),
and a data directory left open by an earlier server is tightened when a server starts on it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def make_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents, each with mode 0700.

    ``Path.mkdir(parents=True)`` would give the parents the default mode.
    """
    missing: list[Path] = []
    while not path.is_dir():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            directory.mkdir(mode=DIR_MODE)


def touch_private(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (files that another library
    creates, such as SQLite's database, whose -wal and -shm files then take its mode)."""
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT, FILE_MODE))


def secure_data_dir(data_dir: Path, entries: Iterable[Path]) -> None:
    """Create ``data_dir`` (0700); if it was open to others, make ``entries`` private too.

    ``entries`` are the server's files and directories in it (directories recursively). A data
    directory that is already private needs no walk: what the server creates in it is private.
    The directory itself is closed last, so an interrupted start tightens again next time.
    """
    make_dirs(data_dir)
    if os.name != "posix" or not stat.S_IMODE(data_dir.stat().st_mode) & 0o077:
        return
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            for root, dirs, files in os.walk(entry):
                for name in files:
                    _restrict(Path(root, name), FILE_MODE)
                for name in dirs:
                    _restrict(Path(root, name), DIR_MODE)
            _restrict(entry, DIR_MODE)
        elif entry.exists():
            _restrict(entry, FILE_MODE)
    data_dir.chmod(DIR_MODE)


def _restrict(path: Path, mode: int) -> None:
    with contextlib.suppress(FileNotFoundError):  # removed meanwhile (a temp file, a lock)
        if not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) != mode:
            path.chmod(mode)

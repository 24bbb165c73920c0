"""Safe local writes: every file the engine writes goes through ``atomic_write``.

The temporary file gets an unguessable name and is created exclusively (``O_EXCL``: an existing
name, a planted symlink included, is never opened) in the destination's own directory, so the
final rename is atomic and replaces a symlink at the destination rather than writing through it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_write"]

#: The temporary file of ``DEST`` is ``.DEST.<random>.tmp`` (hidden, recognisable if left over).
TEMP_SUFFIX = ".tmp"

# O_NOFOLLOW is redundant with O_EXCL on POSIX; it is kept as a second lock where it exists.
_FLAGS = (
    os.O_WRONLY
    | os.O_CREAT
    | os.O_EXCL
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)
_ATTEMPTS = 100


def _create_beside(target: Path) -> tuple[BinaryIO, Path]:
    for _ in range(_ATTEMPTS):
        temp = target.with_name(f".{target.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
        try:
            fd = os.open(temp, _FLAGS, 0o666)  # the umask applies, as for a plain open()
        except FileExistsError:  # taken (by chance or by someone else): draw another name
            continue
        return os.fdopen(fd, "wb"), temp
    raise FileExistsError(f"no free temporary file name beside {target}")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Write ``path`` all at once: yield a new temporary file beside it, then fsync it and
    rename it over ``path``.

    The parent directory is created. If the block raises (or is interrupted), the temporary file
    is removed and an existing ``path`` is left as it was. The result has the permissions of any
    new file (0o666 minus the umask).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    file, temp = _create_beside(target)
    try:
        with file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise

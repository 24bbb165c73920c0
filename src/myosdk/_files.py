"""Safe local writes: every file the SDK writes goes through ``create_beside`` and
``replace_into``.

A fixed temporary name such as ``DEST.part`` can be planted beforehand as a symlink to any file
the user may write, and ``open(..., "wb")`` would follow it. Here the temporary file gets an
unguessable name and is created exclusively (``O_EXCL``: an existing name, symlink or not, is
never opened), in the destination's own directory so the final rename is atomic.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import BinaryIO

__all__ = ["TEMP_SUFFIX", "create_beside", "replace_into"]

#: The temporary file of ``DEST`` is ``.DEST.<random>.part`` (hidden, recognisable if left over).
TEMP_SUFFIX = ".part"

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


def create_beside(destination: Path) -> tuple[BinaryIO, Path]:
    """Create a new, empty temporary file in ``destination``'s directory, open for writing.

    The file is created with mode 0o666 minus the umask, like a plain ``open``, so the renamed
    result has the permissions of any new file. The caller writes it, then ``replace_into`` (or
    closes and deletes it on failure).

    Returns:
        The open file and its path.

    Raises:
        OSError: The directory does not exist or is not writable.
    """
    for _ in range(_ATTEMPTS):
        temp = destination.with_name(f".{destination.name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
        try:
            fd = os.open(temp, _FLAGS, 0o666)
        except FileExistsError:  # taken (by chance or by someone else): draw another name
            continue
        return os.fdopen(fd, "wb"), temp
    raise FileExistsError(f"no free temporary file name beside {destination}")


def replace_into(temp: Path, destination: Path) -> None:
    """Rename the finished ``temp`` to ``destination`` atomically.

    An existing destination is replaced; if it is a symlink, the link itself is replaced and
    whatever it pointed to is left untouched.
    """
    os.replace(temp, destination)
